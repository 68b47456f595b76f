from mcpwarden.policy.patterns import NameGlob, NameSet, UriGlob


def test_literal_name_matches_only_itself() -> None:
    glob = NameGlob.compile("search")
    assert glob.match("search")
    assert not glob.match("search2")


def test_trailing_star_matches_prefix() -> None:
    assert NameGlob.compile("search_*").match("search_docs")
    assert not NameGlob.compile("search_*").match("research_docs")


def test_inner_stars_match_pieces_in_order() -> None:
    glob = NameGlob.compile("a*b*c")
    assert glob.match("a-b-c")
    assert glob.match("abc")
    assert not glob.match("a-c-b")


def test_overlapping_prefix_and_suffix_do_not_share_characters() -> None:
    assert not NameGlob.compile("ab*ba").match("aba")


def test_name_set_reports_the_pattern_that_matched() -> None:
    names = NameSet(["read_file", "list_*"])
    assert names.match("list_dir") == "list_*"
    assert names.match("read_file") == "read_file"
    assert names.match("write_file") is None


def test_uri_single_star_stays_within_one_segment() -> None:
    glob = UriGlob.compile("file:///docs/*")
    assert glob.match("file:///docs/a.md")
    assert not glob.match("file:///docs/sub/a.md")


def test_uri_double_star_crosses_segments() -> None:
    assert UriGlob.compile("file:///docs/**").match("file:///docs/sub/a.md")


def test_uri_pattern_metacharacters_are_literal() -> None:
    glob = UriGlob.compile("db://x/table.users")
    assert glob.match("db://x/table.users")
    assert not glob.match("db://x/tableXusers")
