"""In expressions and pipeline stages a value is a value: it never becomes a field or an operator.

MongoDB reads a string starting with ``$`` as a field path or variable, and a document
key starting with ``$`` as an operator. mongocat refuses both wherever an expression
is built from Python values, and names the fixes; raw documents stay raw.
"""

import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mongocat import F, InvalidQuery, Pipeline, acc, expr

REFUSED: list[Any] = [
    pytest.param(lambda: expr.concat("Hi ", "$pw"), id="concat"),
    pytest.param(lambda: expr.eq(F.password, "$password"), id="eq"),
    pytest.param(lambda: F.expr(expr.eq(F.password, "$password")), id="F.expr-builder"),
    pytest.param(lambda: F.expr({"$eq": ["$password", "x"]}), id="F.expr-document"),
    pytest.param(lambda: expr.cond(True, "$a", 1), id="cond"),
    pytest.param(lambda: expr.switch([(True, "$a")]), id="switch"),
    pytest.param(lambda: expr.add(1, {"$literal": 1}), id="operator-in-argument"),
    pytest.param(lambda: acc.sum("$qty"), id="acc.sum"),
    pytest.param(lambda: acc.push({"name": "$name"}), id="acc.push-document"),
    pytest.param(lambda: Pipeline().add_fields(label="$pw"), id="add_fields"),
    pytest.param(lambda: Pipeline().add_fields({"label": "$pw"}), id="add_fields-document"),
    pytest.param(lambda: Pipeline().add_fields(extra={"$gt": 1}), id="add_fields-operator"),
    pytest.param(lambda: Pipeline().set(label=["$pw"]), id="set-list"),
    pytest.param(lambda: Pipeline().project(x="$pw"), id="project"),
    pytest.param(lambda: Pipeline().group("$product"), id="group-key"),
    pytest.param(lambda: Pipeline().group(F.p, n={"$sum": 1}), id="group-raw-accumulator"),
    pytest.param(lambda: Pipeline().group({"k": "$p"}), id="group-compound-key"),
    pytest.param(lambda: Pipeline().sort_by_count("$tags"), id="sort_by_count"),
    pytest.param(lambda: Pipeline().replace_root("$doc"), id="replace_root"),
    pytest.param(lambda: Pipeline().replace_with({"a": "$b"}), id="replace_with"),
    pytest.param(lambda: Pipeline().redact("$$KEEP"), id="redact"),
    pytest.param(lambda: Pipeline().bucket("$p", [0, 1]), id="bucket"),
    pytest.param(lambda: Pipeline().bucket(F.p, [0, 1], default="$x"), id="bucket-default"),
    pytest.param(lambda: Pipeline().bucket_auto("$p", 2), id="bucket_auto"),
    pytest.param(
        lambda: Pipeline().lookup("b", as_="j", let={"a": "$x"}, pipeline=[]), id="lookup-let"
    ),
    pytest.param(
        lambda: Pipeline().graph_lookup(
            "b", start_with="$x", connect_from_field="a", connect_to_field="b", as_="g"
        ),
        id="graph_lookup",
    ),
    pytest.param(
        lambda: Pipeline().set_window_fields(output={"t": {"$sum": "$q"}}), id="window-output"
    ),
    pytest.param(
        lambda: Pipeline().set_window_fields(partition_by="$s", output={"t": acc.sum(1)}),
        id="window-partition",
    ),
    pytest.param(lambda: Pipeline().fill({"n": {"value": "$x"}}), id="fill"),
    pytest.param(lambda: Pipeline().documents([{"a": "$x"}]), id="documents"),
]


@pytest.mark.parametrize("build", REFUSED)
def test_a_dollar_string_or_operator_key_is_refused_with_both_fixes(
    build: Callable[[], Any],
) -> None:
    with pytest.raises(InvalidQuery) as caught:
        build()
    message = str(caught.value)
    assert "expr.literal(" in message
    assert any(fix in message for fix in ("F.", "F[", "expr.var(", "mongocat.expr"))
    assert len(message.splitlines()[0]) < 250


def test_the_message_names_the_field_and_the_literal() -> None:
    with pytest.raises(InvalidQuery, match=r"F\.qty .*expr\.literal\('\$qty'\)"):
        acc.sum("$qty")


def test_a_long_value_is_shortened_in_the_message() -> None:
    with pytest.raises(InvalidQuery) as caught:
        expr.concat("$" + "x" * 10_000)
    assert len(str(caught.value)) < 320  # bounded, whatever the value's length


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        pytest.param(expr.concat("Hi ", F.name), {"$concat": ["Hi ", "$name"]}, id="field"),
        pytest.param(expr.concat("Hi ", "Ann"), {"$concat": ["Hi ", "Ann"]}, id="text"),
        pytest.param(expr.literal("$5 off"), {"$literal": "$5 off"}, id="literal"),
        pytest.param(expr.var("ROOT"), "$$ROOT", id="var"),
        pytest.param(expr.var("this.qty"), "$$this.qty", id="var-field"),
        pytest.param(
            expr.get_field("$price"), {"$getField": {"field": {"$literal": "$price"}}}, id="gf$"
        ),
        pytest.param(expr.get_field("price"), {"$getField": {"field": "price"}}, id="get-field"),
        pytest.param(
            expr.eq(F.name, re.compile(".*")), {"$eq": ["$name", re.compile(".*")]}, id="pattern"
        ),
    ],
)
def test_fields_variables_and_literals_render_as_asked(built: Any, expected: Any) -> None:
    assert built.to_mongo() == expected


@pytest.mark.parametrize("name", ["", "$ROOT", "a b", "1x", "a..b", "a.", 5])
def test_a_variable_name_is_checked(name: Any) -> None:
    with pytest.raises(InvalidQuery, match="variable name"):
        expr.var(name)


def test_raw_documents_stay_raw() -> None:
    stage = {"$addFields": {"a": "$b", "c": {"$add": ["$d", 1]}}}
    assert Pipeline().raw(stage).to_mongo() == [stage]
    assert Pipeline.from_mongo([stage]).to_mongo() == [stage]


def test_path_positions_take_names_and_fields() -> None:
    assert Pipeline().unwind("tags").to_mongo() == Pipeline().unwind(F.tags).to_mongo()
    assert Pipeline().unset(F.a).to_mongo() == [{"$unset": "a"}]


# -- properties: for any value, refused exactly when MongoDB would not take it as data --

scalars = (
    st.text(max_size=8)
    | st.sampled_from(["$", "$a", "$$ROOT", "$password", "a$", " $a"])
    | st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.builds(re.compile, st.sampled_from([".*", "^a", "$"]))
)
keys = st.text(max_size=6) | st.sampled_from(["$gt", "$where", "$expr", "a.b", "$"])
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=12,
)


def is_data(value: Any) -> bool:
    """Whether MongoDB would take ``value`` in an expression as a constant."""
    if isinstance(value, str):
        return not value.startswith("$")
    if isinstance(value, dict):
        return all(not k.startswith("$") and is_data(v) for k, v in value.items())
    if isinstance(value, list):
        return all(is_data(v) for v in value)
    return True


BUILDERS: list[tuple[Callable[[Any], Any], Callable[[Any], Any]]] = [
    (lambda v: expr.concat(F.a, v).to_mongo(), lambda v: {"$concat": ["$a", v]}),
    (lambda v: expr.eq(F.password, v).to_mongo(), lambda v: {"$eq": ["$password", v]}),
    (lambda v: F.expr(expr.ne(F.a, v)).to_mongo(), lambda v: {"$expr": {"$ne": ["$a", v]}}),
    (lambda v: acc.push(v).to_mongo(), lambda v: {"$push": v}),
    (
        lambda v: Pipeline().add_fields(label=v).to_mongo(),
        lambda v: [{"$addFields": {"label": v}}],
    ),
    (
        lambda v: Pipeline().group(v, n=acc.sum(1)).to_mongo(),
        lambda v: [{"$group": {"_id": v, "n": {"$sum": 1}}}],
    ),
    (
        lambda v: Pipeline().project(out=expr.if_null(F.x, v), _id=0).to_mongo(),
        lambda v: [{"$project": {"out": {"$ifNull": ["$x", v]}, "_id": 0}}],
    ),
]


@pytest.mark.parametrize(("build", "template"), BUILDERS)
@given(value=values)
def test_a_value_keeps_the_expression_shape_or_is_refused(
    build: Callable[[Any], Any], template: Callable[[Any], Any], value: Any
) -> None:
    if is_data(value):
        assert build(value) == template(value)
    else:
        with pytest.raises(InvalidQuery):
            build(value)


@given(value=values)
def test_a_literal_keeps_any_value(value: Any) -> None:
    assert expr.literal(value).to_mongo() == {"$literal": value}
