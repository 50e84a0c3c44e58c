"""Updates render to the documents of the MongoDB manual's examples."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mongocat import F, InvalidQuery, Projection, Sort, Update, _update
from mongocat._coercion import as_update


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        pytest.param(
            Update.set(price=7.99).inc(stock=-1),
            {"$set": {"price": 7.99}, "$inc": {"stock": -1}},
            id="design-example",
        ),
        pytest.param(
            Update.set({"size.uom": "cm", "status": "P"}),
            {"$set": {"size.uom": "cm", "status": "P"}},
            id="set-mapping",
        ),
        pytest.param(Update.set(F.dims.w, 3), {"$set": {"dims.w": 3}}, id="set-field"),
        pytest.param(Update.set("tags.1", "x"), {"$set": {"tags.1": "x"}}, id="set-index"),
        pytest.param(
            Update.unset("quantity", "instock"),
            {"$unset": {"quantity": "", "instock": ""}},
            id="unset",
        ),
        pytest.param(
            Update.inc({"quantity": -2, "metrics.orders": 1}),
            {"$inc": {"quantity": -2, "metrics.orders": 1}},
            id="inc",
        ),
        pytest.param(Update.mul(price=1.25), {"$mul": {"price": 1.25}}, id="mul"),
        pytest.param(Update.min(lowScore=150), {"$min": {"lowScore": 150}}, id="min"),
        pytest.param(Update.max(highScore=950), {"$max": {"highScore": 950}}, id="max"),
        pytest.param(Update.rename(nmae="name"), {"$rename": {"nmae": "name"}}, id="rename"),
        pytest.param(
            Update.rename({"name.first": "name.fname"}),
            {"$rename": {"name.first": "name.fname"}},
            id="rename-dotted",
        ),
        pytest.param(
            Update.current_date("lastModified"),
            {"$currentDate": {"lastModified": True}},
            id="current-date",
        ),
        pytest.param(
            Update.current_date("ts", type="timestamp"),
            {"$currentDate": {"ts": {"$type": "timestamp"}}},
            id="current-timestamp",
        ),
        pytest.param(
            Update.set_on_insert(defaultQty=100),
            {"$setOnInsert": {"defaultQty": 100}},
            id="set-on-insert",
        ),
        pytest.param(Update.push("scores", 89), {"$push": {"scores": 89}}, id="push"),
        pytest.param(
            Update.push("scores", each=[90, 92, 85]),
            {"$push": {"scores": {"$each": [90, 92, 85]}}},
            id="push-each",
        ),
        pytest.param(
            Update.push(
                "quizzes", each=[{"wk": 5, "score": 8}], sort={"score": 1}, slice=-5, position=0
            ),
            {
                "$push": {
                    "quizzes": {
                        "$each": [{"wk": 5, "score": 8}],
                        "$position": 0,
                        "$slice": -5,
                        "$sort": {"score": 1},
                    }
                }
            },
            id="push-modifiers",
        ),
        pytest.param(
            Update.push("quizzes", each=[1], sort=Sort.desc("score")),
            {"$push": {"quizzes": {"$each": [1], "$sort": {"score": -1}}}},
            id="push-sort-builder",
        ),
        pytest.param(
            Update.add_to_set("tags", "accessories"),
            {"$addToSet": {"tags": "accessories"}},
            id="add-to-set",
        ),
        pytest.param(
            Update.add_to_set("tags", each=["camera", "electronics"]),
            {"$addToSet": {"tags": {"$each": ["camera", "electronics"]}}},
            id="add-to-set-each",
        ),
        pytest.param(Update.pop("scores", "first"), {"$pop": {"scores": -1}}, id="pop-first"),
        pytest.param(Update.pop("scores"), {"$pop": {"scores": 1}}, id="pop-last"),
        pytest.param(
            Update.pull("vegetables", "carrots"),
            {"$pull": {"vegetables": "carrots"}},
            id="pull-value",
        ),
        pytest.param(
            Update.pull("votes", where={"$gte": 6}),
            {"$pull": {"votes": {"$gte": 6}}},
            id="pull-condition",
        ),
        pytest.param(
            Update.pull("results", where=(F.score == 8) & (F.item == "B")),
            {"$pull": {"results": {"score": 8, "item": "B"}}},
            id="pull-filter",
        ),
        pytest.param(
            Update.pull_all("scores", [0, 5]), {"$pullAll": {"scores": [0, 5]}}, id="pull-all"
        ),
        pytest.param(Update.bit("expdata", and_=10), {"$bit": {"expdata": {"and": 10}}}, id="bit"),
        pytest.param(Update.set({"grades.$": 82}), {"$set": {"grades.$": 82}}, id="positional"),
        pytest.param(
            Update.inc({"grades.$[]": 10}), {"$inc": {"grades.$[]": 10}}, id="all-positional"
        ),
        pytest.param(
            Update.set({"grades.$[element]": 100}),
            {"$set": {"grades.$[element]": 100}},
            id="filtered-positional",
        ),
        pytest.param(
            Update.set(a=1) + Update.inc(b=1), {"$set": {"a": 1}, "$inc": {"b": 1}}, id="add"
        ),
        pytest.param(
            Update.pipeline({"$set": {"total": {"$add": ["$a", "$b"]}}}, {"$unset": "tmp"}),
            [{"$set": {"total": {"$add": ["$a", "$b"]}}}, {"$unset": "tmp"}],
            id="pipeline",
        ),
    ],
)
def test_update_renders_the_manual_document(built: Update, expected: Any) -> None:
    assert built.to_mongo() == expected


def test_array_filters_travel_with_the_update() -> None:
    update = Update.set({"grades.$[element]": 100}).array_filters(F.element >= 100)
    assert update.array_filters_list == [{"element": {"$gte": 100}}]
    assert Update.set(a=1).array_filters_list is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            {"$each": [1, 2]}, {"$push": {"a": {"$each": [{"$each": [1, 2]}]}}}, id="each-doc"
        ),
        pytest.param({"x": 1}, {"$push": {"a": {"x": 1}}}, id="plain-doc"),
    ],
)
def test_push_value_never_becomes_a_modifier(value: Any, expected: Any) -> None:
    assert Update.push("a", value).to_mongo() == expected


def test_pull_value_never_becomes_a_condition() -> None:
    assert Update.pull("a", {"$gte": 6}).to_mongo() == {"$pull": {"a": {"$eq": {"$gte": 6}}}}
    assert Update.add_to_set("a", {"$each": [1]}).to_mongo() == {
        "$addToSet": {"a": {"$each": [{"$each": [1]}]}}
    }


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(
            lambda: Update.set(a=1).inc(a=1),
            r"'a' \(\$set\) and 'a' \(\$inc\) conflict",
            id="same-path",
        ),
        pytest.param(lambda: Update.set(a=1).set({"a.b": 2}), "conflict", id="parent-child"),
        pytest.param(lambda: Update.set({"a.b": 1}).unset("a"), "conflict", id="child-parent"),
        pytest.param(lambda: Update.set(b=1).rename(a="b"), "conflict", id="rename-target"),
        pytest.param(
            lambda: Update.rename(a="b").set({"b.c": 1}),
            r"'b' \(\$rename\) and 'b.c' \(\$set\) conflict",
            id="after-rename-target",
        ),
        pytest.param(
            lambda: Update.set({f"f{i}": i for i in range(500)} | {"f7.x": 1}),
            r"'f7' \(\$set\) and 'f7.x' \(\$set\) conflict",
            id="many-fields-one-call",
        ),
        pytest.param(lambda: Update.inc(a="1"), "needs a number", id="inc-str"),
        pytest.param(lambda: Update.inc(a=True), "needs a number", id="inc-bool"),
        pytest.param(lambda: Update.set(), "at least one field", id="empty-set"),
        pytest.param(lambda: Update.set("a"), "needs a value", id="field-no-value"),
        pytest.param(lambda: Update.set(None, 5, b=1), "names no field", id="value-no-field"),
        pytest.param(lambda: Update.set({"$bad": 1}), "starts with", id="dollar-field"),
        pytest.param(lambda: Update.set({"a..b": 1}), "empty segment", id="empty-segment"),
        pytest.param(lambda: Update.pop("a", "middle"), "first' or 'last", id="pop-end"),  # type: ignore[arg-type]
        pytest.param(lambda: Update.pull("a"), "exactly one", id="pull-nothing"),
        pytest.param(lambda: Update.pull_all("a", "xy"), "list of values", id="pull-all-str"),
        pytest.param(lambda: Update.push("a", 1, each=[2]), "not both", id="push-value-and-each"),
        pytest.param(lambda: Update.bit("a"), "and_=", id="bit-empty"),
        pytest.param(
            lambda: Update.current_date("a", type="time"), "'date' or 'timestamp'", id="bad-type"
        ),  # type: ignore[arg-type]
        pytest.param(lambda: Update().to_mongo(), "the update is empty", id="empty"),
        pytest.param(
            lambda: Update.pipeline({"$set": {}}).set(a=1),
            "either operators or a pipeline",
            id="mix",
        ),
        pytest.param(lambda: Update.pipeline(), "one or more stage", id="empty-pipeline"),
    ],
)
def test_update_misuse_raises_before_sending(make: Any, message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        make()


def test_class_calls_start_from_an_empty_builder_every_time() -> None:
    # The class-level calls share one empty Update; none may see another's fields.
    first = Update.set(a=1)
    second = Update.set(b=2)
    assert first.to_mongo() == {"$set": {"a": 1}}
    assert second.to_mongo() == {"$set": {"b": 2}}
    assert Sort.asc("a").to_mongo() == {"a": 1}
    assert Sort.asc("b").to_mongo() == {"b": 1}
    assert Projection.include("a").to_mongo() == {"a": 1}
    assert Projection.include("b").to_mongo() == {"b": 1}


def test_updates_are_immutable() -> None:
    base = Update.set(a=1)
    more = base.inc(n=1)
    assert base.to_mongo() == {"$set": {"a": 1}}
    assert more.to_mongo() == {"$set": {"a": 1}, "$inc": {"n": 1}}
    assert repr(more) == "Update({'$set': {'a': 1}, '$inc': {'n': 1}})"
    assert more == Update.set(a=1).inc(n=1)


_SEGMENTS = st.sampled_from(["a", "b", "c", "$[]"])
_PATHS = st.lists(_SEGMENTS, min_size=1, max_size=3).map(".".join)


def _overlap(a: str, b: str) -> bool:
    """The plain definition: the same path, or one the other's parent."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


@pytest.fixture(params=["pairwise", "indexed"])
def conflict_check(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Few paths are compared pair by pair, many through the index: test both."""
    monkeypatch.setattr(_update, "_PAIRWISE", 8 if request.param == "pairwise" else 0)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_PATHS, min_size=1, max_size=6))
def test_a_conflict_is_found_exactly_when_two_paths_overlap(
    conflict_check: None, paths: list[str]
) -> None:
    # The linear-time index must agree with the plain definition on every input.
    clash = any(_overlap(a, b) for i, a in enumerate(paths) for b in paths[:i])

    def build() -> Update:
        update = Update.set(paths[0], 1)
        for path in paths[1:]:
            update = update.inc(path, 1)
        return update

    if clash:
        with pytest.raises(InvalidQuery, match="conflict"):
            build()
    else:
        assert [path for _, path, _ in build()._entries] == paths


def test_a_pipeline_given_as_a_tuple_is_sent_as_a_list() -> None:
    stages = ({"$set": {"total": {"$add": ["$a", "$b"]}}},)
    sent = as_update(stages)
    assert sent == [{"$set": {"total": {"$add": ["$a", "$b"]}}}]
    assert type(sent) is list  # the JavaScript check looks at lists


def test_a_method_called_on_the_class_and_on_an_instance_builds_alike() -> None:
    started = Update.inc(stock=1)
    assert started.to_mongo() == {"$inc": {"stock": 1}}
    assert Update().inc(stock=1) == started
    assert started.set(name="x").to_mongo() == {"$inc": {"stock": 1}, "$set": {"name": "x"}}
    assert Update.inc.__doc__ == Update().inc.__doc__


def test_a_builder_class_needs_its_own_metaclass() -> None:
    from mongocat._paths import BuilderType, classmethod_or_method

    with pytest.raises(TypeError, match="its own subclass of BuilderType"):

        class Shared(metaclass=BuilderType):
            @classmethod_or_method
            def add(self) -> "Shared":
                return self


def test_names_checked_before_are_checked_again_in_every_call_form() -> None:
    assert Update.set(price=1).to_mongo() == {"$set": {"price": 1}}
    with pytest.raises(InvalidQuery, match="empty segment"):
        Update.set(**{"a..b": 1})
    with pytest.raises(InvalidQuery, match="empty segment"):
        Update.set(**{"a..b": 1})  # a refused name is never remembered as checked
    with pytest.raises(InvalidQuery, match="needs a number"):
        Update.inc(price="1")


@pytest.mark.parametrize(
    ("update", "document"),
    [
        (Update.inc(stock=1), {"$inc": {"stock": 1}}),
        (Update.inc(stock=1.5), {"$inc": {"stock": 1.5}}),
        (Update.set(name="x"), {"$set": {"name": "x"}}),
        (Update.set(meta={"a": [1]}), {"$set": {"meta": {"a": [1]}}}),
        (Update.set_on_insert(n=0), {"$setOnInsert": {"n": 0}}),
        (Update.mul(price=2), {"$mul": {"price": 2}}),
        (Update.min(low=3), {"$min": {"low": 3}}),
        (Update.max(high=4), {"$max": {"high": 4}}),
        (Update.unset("a"), {"$unset": {"a": ""}}),
    ],
)
def test_a_one_field_start_sends_its_document_and_gives_fresh_copies(
    update: Update, document: dict[str, Any]
) -> None:
    sent = update._to_send()
    assert sent == document
    assert update._to_send() is sent  # built once, with the Update or at its first send
    fresh = update.to_mongo()
    assert fresh == document
    assert fresh is not sent
    fresh[next(iter(fresh))]["changed"] = 1  # changing a copy changes nothing sent
    assert update._to_send() == document


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Update.inc(stock=True), "needs a number for 'stock'"),
        (lambda: Update.inc(stock="1"), "needs a number for 'stock'"),
        (lambda: Update.mul(price=None), "needs a number for 'price'"),
        (lambda: Update.set(**{"$where": 1}), r"\$where"),
        (lambda: Update.set(**{"a..b": 1}), "a..b"),
        (lambda: Update.pipeline({"$set": {"a": 1}}).set(b=1), "is a pipeline"),
    ],
)
def test_the_one_field_start_keeps_every_check(make: Any, message: str) -> None:
    Update.inc(stock=1), Update.mul(price=1)  # the names are known: the short path runs
    with pytest.raises(InvalidQuery, match=message):
        make()


def test_a_one_field_start_keeps_array_filters_and_chains() -> None:
    update = Update.set(**{"items.$[i].qty": 0}).array_filters(F.i.qty < 0).inc(n=1)
    assert update.to_mongo() == {"$set": {"items.$[i].qty": 0}, "$inc": {"n": 1}}
    assert update.array_filters_list == [{"i.qty": {"$lt": 0}}]


@pytest.mark.parametrize(
    ("make", "scalar_values"),
    [
        (lambda: Update.inc(stock=1), True),
        (lambda: Update.set(name="x"), True),
        (lambda: Update.set(meta={"$ne": 1}), False),
        (lambda: Update.set_on_insert(tags=["a"]), False),
        (lambda: Update.max(meta={"a": 1}), False),  # $max stores the greater value
        (lambda: Update.min(low=1), True),
        (lambda: Update.push(F.log, {"$gt": 0}), False),
        (lambda: Update.push(F.log, 1), True),
        (lambda: Update.unset("a"), True),
        (lambda: Update.set(name="x").inc(n=1), False),  # not known: checked
        (lambda: Update.pipeline({"$set": {"a": 1}}), False),
    ],
)
def test_an_update_says_when_the_stored_name_check_has_nothing_to_look_at(
    make: Any, scalar_values: bool
) -> None:
    make()  # the names are known the second time: the short path runs
    assert make()._scalar_values is scalar_values
