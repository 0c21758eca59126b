"""The published results of a double-random inspection plan (双随机抽查结果公示): the plan, its
draws and seeds, and every finished inspection of its targets; also as a CSV table."""
from flask import Response, abort, render_template

from public_site.views import public_site
from supervision.errors import NotFound
from supervision.extensions import db
from supervision.sampling import results, tables


def _plan(plan_code: str):
    try:
        return results.plan_results(db.session, plan_code)
    except NotFound:
        abort(404)


@public_site.route("/draws/<plan_code>")
def draw_results(plan_code: str):
    info, published = _plan(plan_code)
    return render_template("draw_results.html", plan_code=plan_code, info=info, results=published)


@public_site.route("/draws/<plan_code>/results.csv")
def draw_results_csv(plan_code: str):
    _, published = _plan(plan_code)
    rows = [(r.plan_code, r.draw_id, r.establishment_name, r.credit_code, r.inspected_on.isoformat(), r.outcome)
            for r in published]
    return Response(tables.csv_bytes(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=draw-results-{plan_code}.csv"})
