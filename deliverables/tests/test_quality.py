"""Quality checks: each blocking rule and warning, on exact inputs."""

import pytest

from deliverables.quality import evaluate

BRAND = {"banned_words": ["cheap"], "required_disclaimers": ["Terms apply."]}
AD = {
    "headline": "Fresh roast",
    "primary_text": " ".join(["word"] * 60),
    "call_to_action": "Shop now",
    "image_prompts": ["a", "b", "c"],
}


def codes(report, level):
    return [issue["code"] for issue in report[level]]


def check(
    text="Good copy. Terms apply.", *, kind="campaign_brief", hashtags=(), structured=None, brand=BRAND, title="Title"
):
    return evaluate(
        kind=kind, title=title, content_markdown=text, hashtags=list(hashtags), structured=structured or {}, brand=brand
    )


def test_clean_copy_has_no_issues():
    assert check() == {"blocking": [], "warnings": []}


def test_blank_content_blocks():
    assert codes(check("   "), "blocking") == ["blank", "missing_disclaimer"]


@pytest.mark.parametrize(
    "text",
    [
        "Call [Insert phone number] now",
        "Launch date: TBD",
        "Lorem ipsum dolor",
        "Hello {{first_name}}",
        "Welcome to [Brand Name]!",
        "Save $XX today",
    ],
)
def test_placeholders_block(text):
    assert codes(check(f"{text} Terms apply."), "blocking") == ["placeholder"]


def test_markdown_links_are_not_placeholders():
    assert check("Read [the link](https://acme.test/a). Terms apply.")["blocking"] == []


def test_banned_words_block_whole_words_only():
    assert codes(check("Cheap thrills. Terms apply."), "blocking") == ["banned_word"]
    assert check("Cheapside market. Terms apply.")["blocking"] == []


def test_missing_disclaimer_blocks():
    report = check("Good copy.")
    assert report["blocking"] == [
        {"code": "missing_disclaimer", "message": "Missing the required disclaimer “Terms apply.”."}
    ]


def test_a_post_over_its_platform_limit_blocks():
    text = "x" * 270 + " Terms apply."
    assert codes(check(text, kind="twitter_post"), "blocking") == ["over_limit"]
    assert check("x" * 250 + " Terms apply.", kind="twitter_post")["blocking"] == []


def test_instagram_allows_at_most_30_hashtags_and_warns_above_15():
    tags = [f"#t{i}" for i in range(31)]
    assert codes(check(kind="instagram_post", hashtags=tags), "blocking") == ["too_many_hashtags"]
    assert codes(check(kind="instagram_post", hashtags=tags[:16]), "warnings") == ["many_hashtags"]


def test_ad_copy_warns_outside_45_to_80_words_and_under_3_prompts():
    assert check(kind="ad_copy", structured=AD)["warnings"] == []
    short = {**AD, "primary_text": "Too short.", "image_prompts": ["one"]}
    assert codes(check(kind="ad_copy", structured=short), "warnings") == ["ad_length", "few_image_prompts"]


def test_email_subject_over_78_characters_blocks():
    assert codes(check(kind="email_copy", structured={"subject": "s" * 79}), "blocking") == ["over_limit"]
