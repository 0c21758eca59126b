"""The fixed list of establishment categories. The migration that creates the table seeds it
from this list; the list is data the registry validates against, not an enum in code."""

CATEGORIES: list[tuple[str, str, str]] = [
    # (code, name shown to people, group)
    ("medical", "医疗机构", "医疗卫生"),
    ("accommodation", "住宿场所", "公共场所"),
    ("bathing", "沐浴场所", "公共场所"),
    ("swimming", "游泳场所", "公共场所"),
    ("beauty_hairdressing", "美容美发场所", "公共场所"),
    ("drinking_water", "生活饮用水供水单位", "生活饮用水"),
    ("school", "学校", "学校卫生"),
    ("occupational_health", "职业卫生用人单位", "职业卫生"),
    ("radiation", "放射诊疗及放射卫生单位", "放射卫生"),
    ("disinfection_products", "消毒产品生产企业", "消毒产品"),
    ("water_products", "涉水产品生产企业", "涉水产品"),
    ("blood_station", "采供血机构", "医疗卫生"),
    ("tableware_disinfection", "餐饮具集中消毒单位", "公共卫生"),
    ("other", "其他", "其他"),
]
