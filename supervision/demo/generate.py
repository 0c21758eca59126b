"""Demo data generator: a registry that looks like a real city's, deterministic for a seed, and
fast enough to load a million establishments in a few minutes.

Why it is written the way it is:

- Realism comes from data tables (districts with real centres and roads, name patterns per
  category, licence number formats) combined by one seeded `random.Random`. Faker (zh_CN) only
  fills pools of surnames, given names, brand words and street names once at the start: calling
  Faker per row would cost more than everything else together.
- Speed comes from inserting many rows per statement (SQLAlchemy Core `insert()`; COPY on
  PostgreSQL, see `bulk_insert`), with ids assigned here (offset from each table's current
  maximum) so that licences, plate tokens and credit subjects can point at their establishment
  without a round trip, and no ORM object is built per row. On PostgreSQL the id sequences are
  moved past the new rows at the end, so that ordinary ORM inserts afterwards do not collide.
- Everything is written in the caller's transaction, and the whole load is recorded as ONE audit
  entry ("demo.load"): the chain is about who changed what, and a million identical entries for a
  synthetic load would say nothing more than one entry with the counts. The caller commits, so
  the entry is chained by the ordinary commit hook and the load is all-or-nothing.
- Credit codes are unique by construction: the organisation-code body is a bijection of the
  establishment id, so a second load (or a second seed) can never produce a code already used by
  an earlier demo load.
"""
from __future__ import annotations

import bisect
import math
import random
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Iterable, Sequence

from faker import Faker
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from supervision import audit
from supervision.credit.models import CreditRecord, Penalty
from supervision.demo import credit as demo_credit
from supervision.modelbase import utcnow
from supervision.registry import credit_code
from supervision.registry.models import (
    CreditSubject,
    Establishment,
    Grid,
    Inspector,
    Jurisdiction,
    Licence,
    PlateToken,
    inspector_grids,
)
from supervision.registry.plates import TOKEN_ALPHABET, TOKEN_LENGTH

DEFAULT_SEED = 2026
DEFAULT_BATCH_SIZE = 10_000

# ---------------------------------------------------------------------------------------------
# Reference data: Jiangsu province, Nanjing, its districts.
# ---------------------------------------------------------------------------------------------

PROVINCE = ("320000", "江苏省")
CITY = ("320100", "南京市")


@dataclass(frozen=True)
class DistrictSpec:
    """A district as the demo knows it. `weight` is roughly its population (10,000s), so busy
    districts get more establishments; `radius_km` keeps points inside the built-up area;
    `grids` is how many supervision grids the institute divides it into."""

    code: str
    name: str
    abbr: str  # the one-character abbreviation used in licence numbers, e.g. 玄卫公证字
    lat: float
    lng: float
    radius_km: float
    weight: int
    grids: int
    roads: tuple[str, ...]
    subdistricts: tuple[str, ...]  # 街道 / 镇, used in addresses and institution names


DISTRICTS: tuple[DistrictSpec, ...] = (
    DistrictSpec("320102", "玄武区", "玄", 32.0486, 118.7978, 3.5, 54, 7,
                 ("中山路", "北京东路", "珠江路", "龙蟠路", "玄武大道", "太平北路", "长江路", "中山东路",
                  "童卫路", "锁金村路", "进香河路", "洪武北路", "黄埔路", "后宰门街"),
                 ("梅园新村", "新街口", "玄武门", "锁金村", "红山", "孝陵卫", "玄武湖")),
    DistrictSpec("320104", "秦淮区", "秦", 32.0209, 118.7946, 3.5, 74, 8,
                 ("中华路", "太平南路", "建康路", "白下路", "大光路", "瑞金路", "御道街", "龙蟠南路",
                  "剪子巷", "长乐路", "升州路", "应天大街", "苜蓿园大街"),
                 ("夫子庙", "秦虹", "中华门", "双塘", "五老村", "洪武路", "大光路", "瑞金路", "月牙湖",
                  "光华路", "朝天宫", "红花")),
    DistrictSpec("320105", "建邺区", "建", 32.0037, 118.7317, 4.0, 53, 6,
                 ("江东中路", "河西大街", "嘉陵江东街", "集庆门大街", "庐山路", "黄山路", "奥体大街",
                  "乐山路", "云龙山路", "江山大街", "兴隆大街", "所街", "南湖路"),
                 ("南湖", "莫愁湖", "沙洲", "双闸", "江心洲", "兴隆")),
    DistrictSpec("320106", "鼓楼区", "鼓", 32.0663, 118.7700, 4.0, 94, 9,
                 ("中山北路", "湖南路", "北京西路", "广州路", "汉中路", "上海路", "宁海路", "山西路",
                  "云南路", "虎踞路", "草场门大街", "龙江路", "热河路", "建宁路", "定淮门大街"),
                 ("华侨路", "湖南路", "中央门", "宁海路", "凤凰", "挹江门", "江东", "热河南路",
                  "幕府山", "建宁路", "小市", "阅江楼")),
    DistrictSpec("320111", "浦口区", "浦", 32.0589, 118.6276, 10.0, 120, 8,
                 ("浦口大道", "浦珠北路", "浦滨路", "文德路", "龙华路", "新华路", "浦乌路", "柳州南路",
                  "江浦路", "凤凰大街", "星火路", "海院路"),
                 ("江浦", "顶山", "泰山", "沿江", "盘城", "桥林", "汤泉", "永宁", "星甸")),
    DistrictSpec("320113", "栖霞区", "栖", 32.0964, 118.9090, 8.0, 99, 8,
                 ("和燕路", "仙林大道", "文苑路", "学衡路", "尧佳路", "栖霞大道", "宁镇公路", "万寿路",
                  "迈尧路", "恒通大道", "燕子矶路"),
                 ("尧化", "马群", "迈皋桥", "燕子矶", "栖霞", "龙潭", "仙林", "八卦洲", "西岗")),
    DistrictSpec("320114", "雨花台区", "雨", 31.9914, 118.7794, 5.0, 61, 6,
                 ("雨花南路", "软件大道", "宁南大道", "花神大道", "玉兰路", "凤信路", "安德门大街",
                  "龙藏大道", "铁心桥大街", "宁丹路"),
                 ("雨花", "赛虹桥", "西善桥", "板桥", "铁心桥", "梅山", "古雄")),
    DistrictSpec("320115", "江宁区", "宁", 31.9528, 118.8399, 12.0, 193, 10,
                 ("双龙大道", "天元中路", "胜太路", "竹山路", "东山大街", "金源路", "佳湖路", "将军大道",
                  "诚信大道", "天元东路", "文靖东路", "上元大街", "秣周东路", "禄口大街"),
                 ("东山", "秣陵", "汤山", "淳化", "禄口", "江宁", "谷里", "湖熟", "横溪", "麒麟")),
    DistrictSpec("320116", "六合区", "六", 32.3226, 118.8213, 10.0, 94, 8,
                 ("雄州东路", "雄州西路", "延安北路", "龙津路", "文化路", "葛中路", "宁六路", "园林东路",
                  "金牛湖大道"),
                 ("雄州", "龙池", "程桥", "金牛湖", "横梁", "龙袍", "马鞍", "冶山")),
    DistrictSpec("320117", "溧水区", "溧", 31.6512, 119.0283, 9.0, 50, 6,
                 ("交通路", "珍珠南路", "中山东路", "天生桥大道", "致远路", "秦淮大街", "通济街",
                  "宝塔路", "永阳东路"),
                 ("永阳", "柘塘", "东屏", "石湫", "洪蓝", "白马", "晶桥", "和凤")),
    DistrictSpec("320118", "高淳区", "淳", 31.3270, 118.8921, 9.0, 43, 6,
                 ("宝塔路", "镇兴路", "石臼湖路", "双湖路", "淳中路", "通贤街", "康乐路", "丹阳湖路",
                  "北岭路"),
                 ("淳溪", "古柏", "漆桥", "固城", "东坝", "桠溪", "阳江", "砖墙")),
)

ESTABLISHMENTS_PER_INSPECTOR = 150
MIN_INSPECTORS_PER_GRID = 2
MAX_INSPECTORS = 2_000  # a city's health supervision staff; more would not be believable

# ---------------------------------------------------------------------------------------------
# Establishments: how many of each category, what they are called, which licences they hold.
# ---------------------------------------------------------------------------------------------

# Per mille, roughly what a city institute's target library looks like: hair and beauty salons
# and small clinics dominate; blood stations are a handful.
CATEGORY_WEIGHTS: dict[str, float] = {
    "beauty_hairdressing": 280,
    "medical": 220,
    "accommodation": 110,
    "drinking_water": 70,
    "occupational_health": 70,
    "bathing": 60,
    "other": 60,
    "school": 50,
    "swimming": 20,
    "radiation": 20,
    "tableware_disinfection": 10,
    "disinfection_products": 5,
    "water_products": 5,
    "blood_station": 0.5,
}

# Name patterns per category: (weight, pattern, organisation type). The organisation type is the
# first two characters of the credit code: 91 company, 92 individual business (个体工商户),
# 12 public institution (事业单位), 52 private non-enterprise unit (民办非企业单位).
# Slots: {brand} shop word, {place} a place-like word (what schools, hospitals and housing
# estates are named after), {nick} a given name (small shops are often named after the owner),
# {owner} the legal representative's full name, {city}, {district}, {sub} a 街道/镇, {road},
# {community} a housing estate.
NAME_PATTERNS: dict[str, list[tuple[float, str, str]]] = {
    "accommodation": [
        (30, "{brand}宾馆", "92"), (15, "{district}{brand}旅馆", "92"), (12, "{city}{brand}大酒店有限公司", "91"),
        (12, "{brand}快捷酒店", "91"), (10, "{brand}商务宾馆", "92"), (8, "{city}{brand}酒店管理有限公司{road}分店", "91"),
        (8, "{brand}民宿", "92"), (5, "{brand}招待所", "91"),
    ],
    "bathing": [
        (35, "{brand}浴室", "92"), (20, "{city}{brand}洗浴中心", "91"), (25, "{brand}足浴店", "92"),
        (10, "{brand}汗蒸馆", "92"), (10, "{city}{brand}沐浴有限公司", "91"),
    ],
    "swimming": [
        (35, "{brand}游泳馆", "91"), (25, "{city}{brand}游泳健身有限公司", "91"),
        (20, "{city}市{district}{sub}体育中心游泳馆", "12"), (20, "{community}会所游泳池", "91"),
    ],
    "beauty_hairdressing": [
        (30, "{nick}美发店", "92"), (20, "{brand}美容院", "92"), (15, "{brand}美容美发工作室", "92"),
        (10, "{nick}理发店", "92"), (10, "{brand}美甲店", "92"), (8, "{brand}发型设计", "92"),
        (7, "{city}{brand}美容有限公司", "91"),
    ],
    "medical": [
        (30, "{owner}诊所", "92"), (12, "{city}{brand}诊所", "91"), (10, "{sub}{brand}中医诊所", "92"),
        (12, "{city}{brand}口腔门诊部", "91"), (8, "{place}村卫生室", "12"),
        (8, "{city}市{district}{sub}社区卫生服务中心", "12"), (5, "{city}市{district}{sub}卫生院", "12"),
        (7, "{city}{place}医院", "52"), (4, "{city}{place}中医医院", "91"), (4, "{city}{brand}医疗美容诊所", "91"),
    ],
    "drinking_water": [
        (40, "{community}二次供水设施", "91"), (15, "{city}{sub}水厂", "91"), (15, "{brand}供水站", "91"),
        (15, "{city}{brand}水务有限公司", "91"), (15, "{brand}现制现售水站", "92"),
    ],
    "school": [
        (35, "{city}市{place}小学", "12"), (20, "{city}市{district}{sub}小学", "12"),
        (25, "{city}市{place}中学", "12"), (8, "{city}{place}外国语学校", "52"),
        (7, "{city}{place}实验学校", "52"), (5, "{city}市{place}职业技术学校", "12"),
    ],
    "occupational_health": [
        (20, "{city}{brand}机械制造有限公司", "91"), (15, "{city}{brand}化工有限公司", "91"),
        (20, "{city}{brand}电子科技有限公司", "91"), (15, "{city}{brand}金属制品有限公司", "91"),
        (15, "{city}{brand}建材有限公司", "91"), (15, "{city}{brand}家具有限公司", "91"),
    ],
    "radiation": [
        (40, "{city}{brand}口腔门诊部", "91"), (25, "{owner}口腔诊所", "92"),
        (20, "{city}{place}医院", "52"), (15, "{city}{brand}无损检测有限公司", "91"),
    ],
    "disinfection_products": [
        (40, "{city}{brand}消毒用品有限公司", "91"), (35, "{city}{brand}卫生用品有限公司", "91"),
        (25, "{city}{brand}生物科技有限公司", "91"),
    ],
    "water_products": [
        (45, "{city}{brand}净水设备有限公司", "91"), (30, "{city}{brand}管业有限公司", "91"),
        (25, "{city}{brand}环保科技有限公司", "91"),
    ],
    "blood_station": [
        (50, "{city}{brand}单采血浆站", "91"), (50, "{city}红十字血液中心{district}献血屋", "12"),
    ],
    "tableware_disinfection": [
        (60, "{city}{brand}餐具消毒有限公司", "91"), (40, "{brand}餐饮具集中消毒服务部", "92"),
    ],
    "other": [
        (30, "{brand}网吧", "92"), (20, "{city}{brand}影城有限公司", "91"), (20, "{brand}KTV", "92"),
        (15, "{city}{brand}商场有限公司", "91"), (15, "{city}{brand}物业管理有限公司", "91"),
    ],
}

# Licence kinds: (kind, number format, validity in years or None for no expiry). Number slots:
# {abbr} district abbreviation, {year}, {n} a running number per format and year, {district}
# the district code, {r} random digits.
PUBLIC_PLACE = ("公共场所卫生许可证", "{abbr}卫公证字〔{year}〕第{n:04d}号", 4)
MEDICAL = ("医疗机构执业许可证", "PDY{r:05d}{district}{cls}{n:04d}", 5)
RADIATION_DIAGNOSIS = ("放射诊疗许可证", "{abbr}卫放证字〔{year}〕第{n:03d}号", 5)
RADIATION_SAFETY = ("辐射安全许可证", "苏环辐证〔{n:05d}〕", 5)
LICENCES: dict[str, tuple[str, str, int | None]] = {
    "accommodation": PUBLIC_PLACE,
    "bathing": PUBLIC_PLACE,
    "swimming": PUBLIC_PLACE,
    "beauty_hairdressing": PUBLIC_PLACE,
    "other": PUBLIC_PLACE,
    "medical": MEDICAL,
    "radiation": RADIATION_DIAGNOSIS,
    "drinking_water": ("生活饮用水卫生许可证", "{abbr}卫水证字〔{year}〕第{n:04d}号", 4),
    "school": ("办学许可证", "教{district}{year}{n:05d}号", None),
    "occupational_health": ("职业病危害项目申报回执", "{district}{year}{n:05d}", None),
    "disinfection_products": ("消毒产品生产企业卫生许可证", "（苏）卫消证字〔{year}〕第{n:04d}号", 4),
    "water_products": ("涉及饮用水卫生安全产品卫生许可批件", "苏卫水字〔{year}〕第{n:04d}号", 4),
    "blood_station": ("血站执业许可证", "苏卫血证字〔{year}〕第{n:03d}号", 3),
    "tableware_disinfection": ("餐饮具集中消毒单位卫生备案", "{abbr}卫消备字〔{year}〕第{n:04d}号", None),
}

STATUS_WEIGHTS = {"active": 90, "suspended": 6, "closed": 4}
EXPIRED_LICENCE_SHARE = 0.06  # operating with an expired licence: what inspections find
RENEWED_LICENCE_SHARE = 0.25  # also hold the previous, expired licence of the same kind

# Words that name schools, hospitals and housing estates: places, and old auspicious words.
PLACE_WORDS = (
    "金陵", "钟山", "石城", "紫金", "秦淮", "白鹭", "梧桐", "玄武", "江南", "长江", "凤凰", "雨花", "栖霞", "莫愁",
    "清凉", "鸡鸣", "龙江", "龙蟠", "虎踞", "六朝", "桃叶", "乌衣", "明珠", "天元", "东方", "华夏", "新华", "育才",
    "博爱", "仁爱", "同仁", "春晖", "阳光", "润泽", "翠屏", "方山", "牛首", "汤泉", "燕子矶", "清水亭", "百家湖",
    "将军山", "月牙湖", "仙林", "河西", "南湖", "五台山", "琅琊", "银城", "紫荆", "丁家庄", "迈皋桥",
)
# Words small businesses put in their names. Faker's company prefixes are added to these.
BRAND_WORDS = (
    "金陵", "钟山", "石城", "紫金", "秦淮", "白鹭", "梧桐", "玄武", "江南", "水韵", "鑫源", "华泰", "悦来", "福满",
    "顺发", "康乐", "康泰", "仁和", "同仁", "永安", "惠民", "百姓", "金太阳", "东方", "银河", "新世纪", "明珠",
    "天元", "汇丰", "聚福", "吉祥", "如意", "锦绣", "雅居", "君悦", "博爱", "仁爱", "安康", "益民", "济世",
    "春晖", "阳光", "星光", "欣悦", "美佳", "丽人", "靓点", "名流", "时尚", "尚品", "雅致", "金剪", "新潮",
    "一品", "红杉", "绿洲", "碧水", "清泉", "源泉", "蓝天", "宏达", "恒信", "诚信", "鼎盛", "金鼎", "长江",
    "凤凰", "雨花", "栖霞", "莫愁", "清凉", "鸡鸣", "龙江", "龙蟠", "虎踞", "石头城", "六朝", "桃叶", "乌衣",
    "金桥", "万福", "天润", "华夏", "中和", "德馨", "泰和", "瑞丰", "嘉禾", "鸿运", "永和", "新华", "润泽",
)
COMMUNITY_SUFFIXES = ("花园", "小区", "新村", "苑", "家园", "名邸", "公寓", "佳园")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "157", "158", "159", "177", "180", "182", "183", "187", "188", "189", "199")

# Credit code bodies (characters 9-16) are bijections of the establishment id: "MA" + six
# characters of an affine permutation of the id over 31^6 for units registered since 2015, or
# eight digits of an affine permutation over 10^8 for older organisation codes. The two forms
# never overlap ("MA" versus digits), and each is one-to-one, so codes never repeat.
_ORG_CHARS = credit_code.ALPHABET
_MA_SPACE = 31 ** 6
_MA_MUL, _MA_ADD = 387_420_489, 123_456_789  # 3^18: coprime with 31
_DIGIT_SPACE = 10 ** 8
_DIGIT_MUL, _DIGIT_ADD = 61_803_399, 13_488_291  # odd and not a multiple of 5: coprime with 10
# Share of "MA"-form codes per organisation type; public institutions are mostly old.
_MA_SHARE = {"91": 0.65, "92": 0.9, "12": 0.1, "52": 0.5}

Progress = Callable[[str], None]


@dataclass
class DemoSummary:
    """What one load created, for printing and for the audit entry."""

    seed: int
    establishments: int = 0
    credit_subjects: int = 0
    licences: int = 0
    plate_tokens: int = 0
    jurisdictions: int = 0
    grids: int = 0
    inspectors: int = 0
    inspector_grids: int = 0
    first_establishment_id: int | None = None
    last_establishment_id: int | None = None
    by_category: dict[str, int] = field(default_factory=dict)
    credit: demo_credit.CreditDemoSummary = field(default_factory=demo_credit.CreditDemoSummary)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return (self.establishments + self.credit_subjects + self.licences + self.plate_tokens
                + self.jurisdictions + self.grids + self.inspectors + self.inspector_grids
                + self.credit.records + self.credit.penalties)

    def as_audit(self) -> dict:
        return {
            "seed": self.seed,
            "establishments": self.establishments,
            "credit_subjects": self.credit_subjects,
            "licences": self.licences,
            "plate_tokens": self.plate_tokens,
            "jurisdictions": self.jurisdictions,
            "grids": self.grids,
            "inspectors": self.inspectors,
            "inspector_grids": self.inspector_grids,
            "establishment_ids": [self.first_establishment_id, self.last_establishment_id],
            "by_category": dict(sorted(self.by_category.items())),
            "credit_records": self.credit.records,
            "penalties": self.credit.penalties,
        }


# ---------------------------------------------------------------------------------------------
# The entry point.
# ---------------------------------------------------------------------------------------------


def load_demo(
    session: Session,
    establishments: int,
    *,
    actor: audit.Actor,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> DemoSummary:
    """Add `establishments` demo establishments (with their reference data, licences, plate
    tokens, credit subjects and the inspectors to cover them) in the session's transaction, and
    record the load as one audit entry. The caller commits.

    The same seed on the same database state gives the same rows (dates are relative to
    `today`). Existing data is kept; new rows get new ids and codes.
    """
    if establishments < 0:
        raise ValueError("establishments must not be negative")
    started = time.perf_counter()
    say = progress or (lambda message: None)
    today = today or date.today()
    now = utcnow()
    summary = DemoSummary(seed=seed)
    ids = IdAllocator(session)
    # Appending to earlier data continues with a different random stream, so a second load
    # with the same seed does not repeat the first one's names and tokens.
    rng = random.Random(f"demo:{seed}:{ids.peek(Establishment.__table__)}")
    pools = NamePools.build(rng.getrandbits(32))

    with _sqlite_large_cache(session):
        districts = ensure_reference_data(session, ids, summary)
        say(f"reference data: {len(districts)} districts, {sum(len(d.grid_ids) for d in districts)} grids")
        maker = EstablishmentMaker(rng, pools, districts, today, now, taken=_existing_keys(session))
        _insert_establishments(session, maker, ids, establishments, batch_size, summary, say, started)
        _add_inspectors(session, rng, pools, districts, ids, today, now, summary)
        say(f"inspectors: {summary.inspectors} added")
        summary.credit = demo_credit.load_credit(
            session, ids, seed=seed, first_id=summary.first_establishment_id, last_id=summary.last_establishment_id,
            today=today, now=now, batch_size=batch_size, progress=say)
        reset_sequences(session, (Jurisdiction, Grid, Inspector, CreditSubject, Establishment, Licence, PlateToken,
                                  CreditRecord, Penalty))

    audit.record(session, actor, "demo.load", entity_type="demo",
                 entity_id=_id_range(summary), after=summary.as_audit())
    summary.seconds = time.perf_counter() - started
    return summary


def _id_range(summary: DemoSummary) -> str:
    if summary.first_establishment_id is None:
        return "none"
    return f"{summary.first_establishment_id}-{summary.last_establishment_id}"


# ---------------------------------------------------------------------------------------------
# Ids, bulk inserts, sequences.
# ---------------------------------------------------------------------------------------------


class IdAllocator:
    """Hands out ids per table, starting after the current maximum, so parent and child rows
    can be built together in Python and inserted without asking the database for ids."""

    def __init__(self, session: Session):
        self.session = session
        self._next: dict[str, int] = {}

    def peek(self, table: Table) -> int:
        if table.name not in self._next:
            current = self.session.execute(select(func.max(table.c.id))).scalar()
            self._next[table.name] = (current or 0) + 1
        return self._next[table.name]

    def take(self, table: Table, count: int = 1) -> int:
        """Reserve `count` ids; returns the first."""
        first = self.peek(table)
        self._next[table.name] = first + count
        return first


def bulk_insert(session: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows in one go, in the session's transaction, without ORM objects.

    SQLite: a Core `insert()` executed with the list of rows (one executemany). PostgreSQL with
    psycopg 3: COPY FROM STDIN on the same connection. Executemany there sends one INSERT per
    row, and the server, not Python, becomes the bottleneck; COPY cut a million-establishment
    load from about 175 s to about 80 s on a 2-core machine (SQLite takes about 75 s).
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        _copy_rows(connection, table, rows)
    else:
        connection.execute(insert(table), rows)


def _copy_rows(connection, table: Table, rows: list[dict]) -> None:
    quote = connection.dialect.identifier_preparer.quote
    columns = list(rows[0])
    statement = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def reset_sequences(session: Session, models: Iterable) -> None:
    """PostgreSQL only: move each id sequence past the ids assigned here, so the next ORM insert
    gets a fresh id instead of colliding. SQLite picks max(rowid)+1 by itself."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        name = model.__tablename__
        session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {name}), 1), (SELECT MAX(id) FROM {name}) IS NOT NULL)"
        ))


class _sqlite_large_cache:
    """A bigger SQLite page cache while loading: a million random keys go into the unique
    indexes (credit code, plate token) and the name index, and with the default 2 MB cache most
    of the time is spent moving index pages in and out. Restored afterwards, since the
    connection goes back to the pool (after a failure it is left as is: the statement would
    only add a second error to the first)."""

    CACHE_KIB = 256 * 1024

    def __init__(self, session: Session):
        self.session = session
        self.previous = None

    def __enter__(self):
        if self.session.get_bind().dialect.name == "sqlite":
            self.previous = self.session.execute(text("PRAGMA cache_size")).scalar()
            self.session.execute(text(f"PRAGMA cache_size=-{self.CACHE_KIB}"))
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.previous is not None and exc_type is None:
            self.session.execute(text(f"PRAGMA cache_size={int(self.previous)}"))
        return False


# ---------------------------------------------------------------------------------------------
# Name pools.
# ---------------------------------------------------------------------------------------------


@dataclass
class NamePools:
    """Everything Faker contributes, drawn once. Combining surnames and given names at random
    gives millions of plausible names, in Faker's surname frequencies, at the cost of two list
    lookups."""

    surnames: list[str]
    given_names: list[str]
    brands: list[str]
    streets: list[str]

    @classmethod
    def build(cls, faker_seed: int, size: int = 2_000) -> "NamePools":
        fake = Faker("zh_CN")
        fake.seed_instance(faker_seed)
        surnames = [fake.last_name() for _ in range(size)]
        given = [fake.first_name() for _ in range(size)]
        # Two-character Faker prefixes read like shop names; longer ones are IT company names.
        faker_brands = sorted({p for p in (fake.company_prefix() for _ in range(400)) if len(p) == 2})
        brands = list(BRAND_WORDS) + faker_brands
        # Faker's streets ("成都路", "王街") fill in between each district's real roads.
        streets = sorted({fake.street_name() for _ in range(300)})
        return cls(surnames, given, brands, streets)


# ---------------------------------------------------------------------------------------------
# Reference data: province, city, districts, grids.
# ---------------------------------------------------------------------------------------------


@dataclass
class DistrictRef:
    """A district as stored: its id, its grids, and the counts that decide how many inspectors
    it needs."""

    spec: DistrictSpec
    jurisdiction_id: int
    grid_ids: list[int]
    inspectors: int = 0  # already in the database
    establishments: int = 0  # already in the database, plus what this load adds


def ensure_reference_data(session: Session, ids: IdAllocator, summary: DemoSummary) -> list[DistrictRef]:
    """Create the province, the city, its districts and their grids where they are missing
    (matched by code), and return the districts with their grids."""
    jt = Jurisdiction.__table__
    existing = {row.code: row.id for row in session.execute(select(jt.c.code, jt.c.id))}
    new_rows = []

    def ensure(code: str, name: str, level: str, parent_id: int | None) -> int:
        if code not in existing:
            existing[code] = ids.take(jt)
            new_rows.append({"id": existing[code], "code": code, "name": name, "level": level, "parent_id": parent_id})
        return existing[code]

    province_id = ensure(*PROVINCE, "province", None)
    city_id = ensure(*CITY, "city", province_id)
    for spec in DISTRICTS:
        ensure(spec.code, spec.name, "district", city_id)
    bulk_insert(session, jt, new_rows)
    summary.jurisdictions = len(new_rows)

    gt = Grid.__table__
    grid_codes = set(session.execute(select(gt.c.code)).scalars())
    new_grids = []
    for spec in DISTRICTS:
        for k in range(1, spec.grids + 1):
            code = f"{spec.code}-{k:02d}"
            if code not in grid_codes:
                new_grids.append({"id": ids.take(gt), "code": code, "name": f"{spec.name}第{k}网格",
                                  "jurisdiction_id": existing[spec.code]})
    bulk_insert(session, gt, new_grids)
    summary.grids = len(new_grids)

    grids_by_j: dict[int, list[int]] = {}
    for gid, jid in session.execute(select(gt.c.id, gt.c.jurisdiction_id).order_by(gt.c.id)):
        grids_by_j.setdefault(jid, []).append(gid)
    it, et = Inspector.__table__, Establishment.__table__
    inspectors = dict(session.execute(select(it.c.jurisdiction_id, func.count()).group_by(it.c.jurisdiction_id)).all())
    counts = dict(session.execute(select(et.c.jurisdiction_id, func.count()).group_by(et.c.jurisdiction_id)).all())
    refs = []
    for spec in DISTRICTS:
        jid = existing[spec.code]
        refs.append(DistrictRef(spec, jid, grids_by_j.get(jid, []), inspectors.get(jid, 0), counts.get(jid, 0)))
    return refs


# ---------------------------------------------------------------------------------------------
# Establishments.
# ---------------------------------------------------------------------------------------------


@dataclass
class Taken:
    """Codes and tokens already in the database. Only an append needs them; on an empty
    database both sets are empty and cost nothing."""

    credit_codes: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)


def _existing_keys(session: Session) -> Taken:
    et, pt = Establishment.__table__, PlateToken.__table__
    if session.execute(select(et.c.id).limit(1)).first() is None:
        return Taken()
    return Taken(set(session.execute(select(et.c.credit_code)).scalars()),
                 set(session.execute(select(pt.c.token)).scalars()))


class WeightedChoice:
    """`random.choices` with precomputed cumulative weights, one float and a bisect per draw."""

    def __init__(self, items: Sequence, weights: Sequence[float]):
        self.items = list(items)
        self.cumulative = []
        total = 0.0
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.total = total

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


def _compile(pattern: str) -> list[tuple[str, str | None]]:
    """A name pattern as (literal, slot) pairs, so filling it costs no format parsing."""
    return [(literal, slot) for literal, slot, _, _ in string.Formatter().parse(pattern)]


@dataclass
class Batch:
    subjects: list[dict] = field(default_factory=list)
    establishments: list[dict] = field(default_factory=list)
    licences: list[dict] = field(default_factory=list)
    plates: list[dict] = field(default_factory=list)


class EstablishmentMaker:
    """Builds establishment rows and their children from one random stream."""

    def __init__(self, rng: random.Random, pools: NamePools, districts: list[DistrictRef], today: date,
                 now: datetime, taken: Taken):
        self.rng = rng
        self.pools = pools
        self.districts = [d for d in districts if d.grid_ids]
        self.district_choice = WeightedChoice(self.districts, [d.spec.weight for d in self.districts])
        self.category_choice = WeightedChoice(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))
        self.patterns = {
            category: WeightedChoice([(_compile(p), org) for _, p, org in patterns], [w for w, _, _ in patterns])
            for category, patterns in NAME_PATTERNS.items()
        }
        self.status_choice = WeightedChoice(list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values()))
        self.today = today
        self.today_ord = today.toordinal()
        self.now = now
        self.taken = taken
        self.seen_tokens: set[str] = set()
        self.serials: Counter = Counter()
        self.by_category: Counter = Counter()

    # -- small draws ------------------------------------------------------------------------

    def person(self) -> str:
        rng, p = self.rng, self.pools
        return p.surnames[int(rng.random() * len(p.surnames))] + p.given_names[int(rng.random() * len(p.given_names))]

    def brand(self) -> str:
        return self.pools.brands[int(self.rng.random() * len(self.pools.brands))]

    def road(self, spec: DistrictSpec) -> str:
        if self.rng.random() < 0.75:
            return spec.roads[int(self.rng.random() * len(spec.roads))]
        return self.pools.streets[int(self.rng.random() * len(self.pools.streets))]

    def sub(self, spec: DistrictSpec) -> str:
        return spec.subdistricts[int(self.rng.random() * len(spec.subdistricts))]

    def place(self) -> str:
        return PLACE_WORDS[int(self.rng.random() * len(PLACE_WORDS))]

    def community(self) -> str:
        return self.place() + COMMUNITY_SUFFIXES[int(self.rng.random() * len(COMMUNITY_SUFFIXES))]

    def name(self, category: str, spec: DistrictSpec, owner: str) -> tuple[str, str]:
        """The establishment's name and its organisation type (first two credit-code chars)."""
        parts, org = self.patterns[category].pick(self.rng)
        out = []
        for literal, slot in parts:
            out.append(literal)
            if slot is None:
                continue
            if slot == "brand":
                out.append(self.brand())
            elif slot == "place":
                out.append(self.place())
            elif slot == "nick":
                given = self.pools.given_names[int(self.rng.random() * len(self.pools.given_names))]
                out.append(given if len(given) == 2 else self.brand())
            elif slot == "owner":
                out.append(owner)
            elif slot == "city":
                out.append("南京")
            elif slot == "district":
                out.append(spec.name)
            elif slot == "sub":
                out.append(self.sub(spec))
            elif slot == "road":
                out.append(self.road(spec))
            elif slot == "community":
                out.append(self.community())
        return "".join(out), org

    def address(self, spec: DistrictSpec) -> str:
        rng = self.rng
        number = int(rng.random() * rng.choice((60, 200, 600))) + 1
        street = f"{self.sub(spec)}街道" if rng.random() < 0.3 else ""
        tail = ""
        r = rng.random()
        if r < 0.25:
            tail = f"{int(rng.random() * 30) + 1}幢{int(rng.random() * 6) + 1}0{int(rng.random() * 4) + 1}室"
        elif r < 0.45:
            tail = f"{int(rng.random() * 5) + 1}楼"
        elif r < 0.55:
            tail = f"-{int(rng.random() * 12) + 1}"
        return f"江苏省南京市{spec.name}{street}{self.road(spec)}{number}号{tail}"

    def location(self, spec: DistrictSpec) -> tuple[float, float]:
        """A point uniformly inside the district's circle around its centre."""
        rng = self.rng
        r = spec.radius_km * math.sqrt(rng.random())
        theta = rng.random() * 2 * math.pi
        lat = spec.lat + r * math.sin(theta) / 111.0
        lng = spec.lng + r * math.cos(theta) / (111.32 * math.cos(math.radians(spec.lat)))
        return round(lat, 6), round(lng, 6)

    def credit_code(self, establishment_id: int, org: str, spec: DistrictSpec) -> str:
        """A valid code whose body is a bijection of the id (see _MA_SPACE); retried in the
        other form only if a code from outside the demo happens to hold it already."""
        ma_first = self.rng.random() < _MA_SHARE[org]
        for ma in (ma_first, not ma_first):
            if ma:
                value = (establishment_id * _MA_MUL + _MA_ADD) % _MA_SPACE
                chars = []
                for _ in range(6):
                    value, digit = divmod(value, 31)
                    chars.append(_ORG_CHARS[digit])
                body = "MA" + "".join(reversed(chars))
            else:
                body = f"{(establishment_id * _DIGIT_MUL + _DIGIT_ADD) % _DIGIT_SPACE:08d}"
            code = credit_code.complete(org + spec.code + body)
            if code not in self.taken.credit_codes:
                return code
        raise RuntimeError(f"no free credit code for establishment {establishment_id}")

    def token(self) -> str:
        """A plate token from the plates alphabet, drawn from the seeded stream (so the demo is
        reproducible), unique among the tokens of this load and those already stored."""
        while True:
            token = "".join(self.rng.choices(TOKEN_ALPHABET, k=TOKEN_LENGTH))
            if token not in self.seen_tokens and token not in self.taken.tokens:
                self.seen_tokens.add(token)
                return token

    # -- licences ---------------------------------------------------------------------------

    def licence_number(self, fmt: str, spec: DistrictSpec, issued: date, cls: str = "") -> str:
        """Fill a number format. The running number counts per issuing office (when the format
        names the district) and per year (when it shows the year), as real registers do, so
        two numbers from one format never coincide."""
        key = (fmt, spec.code if "{abbr}" in fmt or "{district}" in fmt else "",
               issued.year if "{year}" in fmt else 0)
        self.serials[key] += 1
        return fmt.format(abbr=spec.abbr, year=issued.year, n=self.serials[key], district=spec.code,
                          r=int(self.rng.random() * 100_000), cls=cls)

    def licence_rows(self, establishment_id: int, category: str, name: str, status: str,
                     spec: DistrictSpec, first_id: int) -> list[dict]:
        """The current licence, sometimes the expired one it replaced, and for hospitals and
        dental practices sometimes a radiation-diagnosis licence."""
        rng = self.rng
        kind, fmt, years = LICENCES[category]
        if category == "radiation" and "检测" in name:
            kind, fmt, years = RADIATION_SAFETY
        cls = _medical_class(name) if category == "medical" else ""
        expired = rng.random() < (0.6 if status == "closed" else EXPIRED_LICENCE_SHARE)
        if years is None:
            issued = self.today_ord - int(rng.random() * 10 * 365) - 1
        elif expired:
            issued = self.today_ord - years * 365 - int(rng.random() * 3 * 365) - 30
        else:
            issued = self.today_ord - int(rng.random() * (years * 365 - 30)) - 1
        issued_on = date.fromordinal(issued)
        rows = [self._licence(first_id, establishment_id, kind, self.licence_number(fmt, spec, issued_on, cls),
                              issued_on, _validity_end(issued_on, years))]
        if years is not None and rng.random() < RENEWED_LICENCE_SHARE:
            before = _add_years(issued_on, -years)
            rows.append(self._licence(first_id + len(rows), establishment_id, kind,
                                      self.licence_number(fmt, spec, before, cls), before,
                                      date.fromordinal(issued - 1)))
        if category == "medical" and cls in ("A", "J") and rng.random() < 0.5:
            rkind, rfmt, ryears = RADIATION_DIAGNOSIS
            r_issued = date.fromordinal(self.today_ord - int(rng.random() * (ryears * 365 - 30)) - 1)
            rows.append(self._licence(first_id + len(rows), establishment_id, rkind,
                                      self.licence_number(rfmt, spec, r_issued), r_issued,
                                      _validity_end(r_issued, ryears)))
        return rows

    @staticmethod
    def _licence(lid, establishment_id, kind, number, issued_on, expires_on) -> dict:
        return {"id": lid, "establishment_id": establishment_id, "number": number, "kind": kind,
                "issued_on": issued_on, "expires_on": expires_on}

    # -- one establishment ------------------------------------------------------------------

    def add(self, batch: Batch, establishment_id: int, subject_id: int, plate_id: int, licence_id: int) -> int:
        """Append one establishment and its children to `batch`; returns licences used."""
        rng = self.rng
        district = self.district_choice.pick(rng)
        spec = district.spec
        district.establishments += 1
        category = self.category_choice.pick(rng)
        self.by_category[category] += 1
        owner = self.person()
        name, org = self.name(category, spec, owner)
        status = self.status_choice.pick(rng)
        lat, lng = self.location(spec)
        now = self.now
        batch.subjects.append({"id": subject_id, "kind": "establishment", "created_at": now})
        batch.establishments.append({
            "id": establishment_id,
            "subject_id": subject_id,
            "credit_code": self.credit_code(establishment_id, org, spec),
            "name": name,
            "category_code": category,
            "address": self.address(spec),
            "jurisdiction_id": district.jurisdiction_id,
            "grid_id": district.grid_ids[int(rng.random() * len(district.grid_ids))],
            "latitude": lat,
            "longitude": lng,
            "legal_representative": owner,
            "status": status,
            "created_at": now,
            "updated_at": now,
        })
        batch.plates.append({"id": plate_id, "token": self.token(), "establishment_id": establishment_id,
                             "issued_at": now, "revoked_at": None})
        licences = self.licence_rows(establishment_id, category, name, status, spec, licence_id)
        batch.licences.extend(licences)
        return len(licences)


def _medical_class(name: str) -> str:
    """The institution-class letter in a medical licence number: hospital, primary care,
    outpatient department, clinic."""
    if name.endswith("医院"):
        return "A"
    if name.endswith(("卫生院", "服务中心", "卫生室")):
        return "B"
    if name.endswith("门诊部"):
        return "J"
    return "D"


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _validity_end(issued: date, years: int | None) -> date | None:
    """A licence valid for N years ends the day before the Nth anniversary."""
    if years is None:
        return None
    return date.fromordinal(_add_years(issued, years).toordinal() - 1)


def _insert_establishments(session: Session, maker: EstablishmentMaker, ids: IdAllocator, n: int,
                           batch_size: int, summary: DemoSummary, say: Progress, started: float) -> None:
    """Generate and insert in batches: parents before children within each batch, so foreign
    keys hold at every statement."""
    st, et, lt, pt = CreditSubject.__table__, Establishment.__table__, Licence.__table__, PlateToken.__table__
    done = 0
    while done < n:
        size = min(batch_size, n - done)
        batch = Batch()
        first_e, first_s, first_p = ids.take(et, size), ids.take(st, size), ids.take(pt, size)
        licence_id = ids.peek(lt)
        for i in range(size):
            licence_id += maker.add(batch, first_e + i, first_s + i, first_p + i, licence_id)
        ids.take(lt, licence_id - ids.peek(lt))
        bulk_insert(session, st, batch.subjects)
        bulk_insert(session, et, batch.establishments)
        bulk_insert(session, lt, batch.licences)
        bulk_insert(session, pt, batch.plates)
        if summary.first_establishment_id is None:
            summary.first_establishment_id = first_e
        summary.last_establishment_id = first_e + size - 1
        summary.establishments += size
        summary.credit_subjects += size
        summary.plate_tokens += size
        summary.licences += len(batch.licences)
        done += size
        elapsed = time.perf_counter() - started
        say(f"establishments {done:,}/{n:,}  ({done / elapsed:,.0f}/s)")
    summary.by_category = dict(maker.by_category)


# ---------------------------------------------------------------------------------------------
# Inspectors.
# ---------------------------------------------------------------------------------------------


def inspector_targets(districts: list[DistrictRef]) -> dict[str, int]:
    """How many inspectors each district should have for its establishments: about one per
    ESTABLISHMENTS_PER_INSPECTOR, at least MIN_INSPECTORS_PER_GRID per grid (field work is done
    in pairs), and no more than MAX_INSPECTORS in the city (the floor wins over the cap)."""
    floors = {d.spec.code: MIN_INSPECTORS_PER_GRID * len(d.grid_ids) for d in districts}
    wanted = {d.spec.code: max(floors[d.spec.code], round(d.establishments / ESTABLISHMENTS_PER_INSPECTOR))
              for d in districts}
    total = sum(wanted.values())
    if total > MAX_INSPECTORS:
        scale = MAX_INSPECTORS / total
        wanted = {code: max(floors[code], int(count * scale)) for code, count in wanted.items()}
    return wanted


def _add_inspectors(session: Session, rng: random.Random, pools: NamePools, districts: list[DistrictRef],
                    ids: IdAllocator, today: date, now: datetime, summary: DemoSummary) -> None:
    """Top each district up to its target. Badge numbers are the district code and a serial;
    each inspector covers one or two grids of the district, assigned round-robin so every grid
    has its pair."""
    it = Inspector.__table__
    badges = set(session.execute(select(it.c.badge_no)).scalars())
    certificates = set(session.execute(select(it.c.certificate_no)).scalars())
    targets = inspector_targets(districts)
    rows, links = [], []
    today_ord = today.toordinal()
    for district in districts:
        grids = district.grid_ids
        if not grids:
            continue
        serial = district.inspectors
        for index in range(district.inspectors, targets[district.spec.code]):
            expired = rng.random() < 0.06
            if expired:
                valid_from = date.fromordinal(today_ord - 5 * 365 - 30 - int(rng.random() * 3 * 365))
            else:
                valid_from = date.fromordinal(today_ord - int(rng.random() * (5 * 365 - 30)))
            while True:
                serial += 1
                badge = f"{district.spec.code}{serial:04d}"
                certificate = f"苏{district.spec.code}{valid_from.year % 100:02d}{serial:04d}"
                if badge not in badges and certificate not in certificates:
                    break
            badges.add(badge)
            certificates.add(certificate)
            iid = ids.take(it)
            rows.append({
                "id": iid,
                "badge_no": badge,
                "name": pools.surnames[int(rng.random() * len(pools.surnames))]
                + pools.given_names[int(rng.random() * len(pools.given_names))],
                "certificate_no": certificate,
                "certificate_valid_from": valid_from,
                "certificate_valid_until": _validity_end(valid_from, 5),
                "jurisdiction_id": district.jurisdiction_id,
                "phone": MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))] + f"{int(rng.random() * 10**8):08d}",
                "active": True,
                "created_at": now,
                "updated_at": now,
            })
            own = [grids[index % len(grids)]]
            if len(grids) > 1 and rng.random() < 0.4:
                own.append(grids[(index + 1) % len(grids)])
            links.extend({"inspector_id": iid, "grid_id": g} for g in own)
    bulk_insert(session, it, rows)
    bulk_insert(session, inspector_grids, links)
    summary.inspectors = len(rows)
    summary.inspector_grids = len(links)
