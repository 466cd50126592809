"""Reading a judge's answer: templates, rating parsing, the expected-rating arithmetic."""
from __future__ import annotations

import math

import pytest

from metrics import MetricError, Sample
from metrics.vlm_judge import expected_rating, interpret, list_templates, load_template, parse_rating
from metrics.vlm_judge.templates import MissingPlaceholder, parse_template, sample_fields


def test_shipped_templates_load_with_their_scales():
    assert {"socratis_reason", "caption_quality", "yes_no", "socratis_pairwise",
            "caption_pairwise"} <= set(list_templates())
    reason = load_template("socratis_reason")
    assert reason.labels == ("1", "2", "3", "4", "5") and reason.values == (1, 2, 3, 4, 5)
    assert {"caption", "emotion", "candidate"} <= set(reason.placeholders)
    assert not reason.pairwise and reason.image
    assert load_template("caption_quality").values == tuple(range(10))
    yes_no = load_template("yes_no")
    assert dict(zip(yes_no.labels, yes_no.values)) == {"Yes": 1.0, "No": 0.0}
    pair = load_template("socratis_pairwise")
    assert pair.pairwise and pair.case_sensitive and pair.values == (0.0, 1.0)


def test_template_by_path_and_bad_templates(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("# mine\nscale: bad=0 good=1\nimage: false\n---\nIs {candidate} good?\n")
    t = load_template(str(path))
    assert (t.name, t.labels, t.image, t.body) == ("mine", ("bad", "good"), False, "Is {candidate} good?")
    with pytest.raises(MetricError, match="unknown template 'nope'"):
        load_template("nope")
    with pytest.raises(MetricError, match="no '---'"):
        parse_template("scale: 1 2\nprompt", "x")
    with pytest.raises(MetricError, match="numeric value"):
        parse_template("scale: A B\n---\n{candidate}", "x")
    with pytest.raises(MetricError, match="pairwise"):
        parse_template("scale: A=0 B=2\n---\n{candidate_a} {candidate_b}", "x")
    with pytest.raises(MetricError, match="'key: value'"):
        parse_template("scael: 1 2\n---\n{candidate}", "x")


def test_fill_names_the_sample_and_the_missing_field():
    t = load_template("socratis_reason")
    s = Sample("s7", "because the flood destroyed homes", image="x.png",
               context={"caption": "Floods in the valley"})
    with pytest.raises(MissingPlaceholder, match=r"\{emotion\}.*'s7'.*context\['emotion'\]"):
        t.fill(sample_fields(s), s.id)
    s = Sample("s8", "r", context={"caption": "c", "emotion": "fear"})
    prompt = t.fill(sample_fields(s), s.id)
    assert 'Caption: "c"' in prompt and "felt fear" in prompt and 'Reason: "r"' in prompt
    assert "{" not in prompt


@pytest.mark.parametrize("text, expected", [
    ("4", "4"), (" 4\n", "4"), ("Rating: 4/5", "4"), ("**5**", "5"), ("I would say 2.", "2"),
    ("10", None), ("4.5", None), ("4.5 then 3", "3"), ("", None), ("I can't help with that", None),
])
def test_parse_rating_finds_the_first_standalone_label(text, expected):
    found = parse_rating(text, load_template("socratis_reason"))
    assert (found[0] if found else None) == expected


def test_pairwise_letters_are_case_sensitive_and_yes_no_is_not():
    pair = load_template("socratis_pairwise")
    assert parse_rating("a better answer is B", pair)[0] == "B"
    assert parse_rating("YES, it does", load_template("yes_no"))[0] == "Yes"


def test_expected_rating_is_normalised_over_the_scale_labels():
    t = load_template("socratis_reason")
    top = {"4": math.log(0.5), " 3": math.log(0.2), "3": math.log(0.1), "5": math.log(0.1),
           "The": math.log(0.05), "9": math.log(0.05)}
    score, mass = expected_rating(top, t)
    assert mass == pytest.approx(0.9)
    assert score == pytest.approx((4 * 0.5 + 3 * 0.3 + 5 * 0.1) / 0.9)
    assert expected_rating({"The": -0.1}, t) is None


def test_interpret_reads_probabilities_where_the_rating_is_written():
    t = load_template("yes_no")
    answer = {"text": "Answer: yes", "tokens": ["Answer", ":", " yes"],
              "top": [{"Answer": -0.1}, {":": -0.1},
                      {" yes": math.log(0.6), " no": math.log(0.2), " No": math.log(0.1)}]}
    j = interpret(answer, t)
    assert j.used_probabilities and j.raw_rating == 1.0
    assert j.score == pytest.approx(0.6 / 0.9) and j.rating_mass == pytest.approx(0.9)
    # No log-probabilities: the parsed rating is the score.
    j = interpret({"text": "No.", "tokens": None, "top": None}, t)
    assert (j.score, j.raw_rating, j.used_probabilities) == (0.0, 0.0, False)
    # Tokens that do not spell the text: no position to read, so the parsed rating.
    j = interpret({"text": "Yes", "tokens": ["Ye", "p"], "top": [{}, {}]}, t)
    assert (j.score, j.used_probabilities) == (1.0, False)


def test_unparseable_answers_are_errors_with_the_answer_shown():
    t = load_template("socratis_reason")
    assert "declined" in interpret({"text": "I'm sorry, I cannot rate this."}, t).error
    j = interpret({"text": "The reason is fine."}, t)
    assert math.isnan(j.score) and "no rating (1 2 3 4 5)" in j.error and "fine" in j.error
    assert "empty" in interpret({"text": "  "}, t).error


def test_a_huge_logprob_gives_a_rating_not_an_overflow():
    """Logprobs past exp's range (about 709) once raised OverflowError."""
    t = load_template("socratis_reason")
    score, mass = expected_rating({"4": 800.0, "3": 799.0, "5": -2.0}, t)
    # Softmax over the labels, by hand: weights 1, e^-1, e^-802.
    w3 = math.exp(-1.0)
    assert score == pytest.approx((4 + 3 * w3) / (1 + w3), rel=1e-12)
    assert mass == math.inf
    # Ordinary logprobs keep their exact mass.
    score, mass = expected_rating({"2": math.log(0.25), "1": math.log(0.25)}, t)
    assert (score, mass) == (pytest.approx(1.5), pytest.approx(0.5))
    j = interpret({"text": "4", "tokens": ["4"], "top": [{"4": 800.0, "3": 799.0}]}, t)
    assert j.used_probabilities and j.score == pytest.approx((4 + 3 * w3) / (1 + w3))


@pytest.mark.parametrize("answer", [
    ["4"],                                                    # not an object
    {"text": 4},                                              # text not a string
    {"text": "4", "tokens": ["4"], "top": [{"4": "high"}]},  # logprob not a number
    {"text": "4", "tokens": ["4"], "top": ["4"]},             # alternatives not a mapping
    {"text": "4", "tokens": [4], "top": [{"4": -1.0}]},       # token not a string
])
def test_an_unreadable_answer_is_nan_or_the_parsed_rating_never_an_exception(answer):
    j = interpret(answer, load_template("socratis_reason"))
    if isinstance(answer, dict) and isinstance(answer.get("text"), str):
        assert (j.score, j.used_probabilities) == (4.0, False)  # the logprobs are ignored
    else:
        assert math.isnan(j.score) and j.error
