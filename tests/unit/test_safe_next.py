"""Where the login page may send a browser afterwards: only a path on this site, as the browser will read it."""
import pytest

from gateway.auth import safe_next

NASTY = [
    "//evil.example/", "/\t/evil.example/", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
    " //evil.example", "\x00//evil.example", "/\\evil.example", "\\/evil.example", "\\\\evil.example",
    "/\\/evil.example", "///evil.example", "https://evil.example/", "http:/evil.example", "HTTPS://evil.example",
    "javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,x", "evil.example",
    "customers/", "/\x0b/evil.example", "/x\x00y", "/x\x7fy", "", None,
]


@pytest.mark.parametrize("target", NASTY)
def test_anything_but_a_path_on_this_site_is_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target, path", [
    ("/", "/"),
    ("/customers/?page=2&q=山田", "/customers/?page=2&q=山田"),
    ("/settings/shops/7", "/settings/shops/7"),
    (" /search/\n", "/search/"),
    ("/a/%2F/b", "/a/%2F/b"),
    ("/a\\b", "/a/b"),
])
def test_a_path_on_this_site_is_kept_as_the_browser_will_read_it(target, path):
    assert safe_next(target) == path
