"""News lists that a CMS writes with JavaScript, read as the data they are (no JavaScript engine).

Chinese government and state-owned-enterprise sites seldom put their list pagination, and
sometimes not even their list entries, in the HTML as links. Their scripts write them when the
page loads, from data that is in the page:

- TRS WCM: ``createPageHTML(12, 0, "index", "html")`` (arguments may be variables such as
  ``var countPage = 12``) writes links to index.html, index_1.html … index_11.html, counting
  from 0; TRS Hycloud's ``createPageHTML('page_div', 12, 1, 'list', 'shtml', 230)`` counts from 1:
  list.shtml, list_2.shtml … list_12.shtml. Pages that only set ``var countPage = 12`` and
  ``var currentPage = 0`` and write ``"index_" + nextPage + ".html"`` themselves are read too.
- VSB (博达): the "go to page" box calls ``_simple_list_gotopage_fun(31, …)``; its pages run
  backwards: list.htm, then list/30.htm … list/1.htm.
- Hanweb (大汉) jpage: the entries sit in ``<script type="text/xml"><datastore><recordset>
  <record><![CDATA[<li><a href=…>…</a></li>]]></record>…``; when the column holds more records
  (``totalRecord``) than the page embeds, the script POSTs ``startrecord``/``endrecord``/
  ``perpage`` to /module/web/jpage/dataproxy.jsp with the column's parameters (``columnid``,
  ``unitid``, ``webid`` …, from the page), and gets the next records as another datastore.
- A JSON list endpoint a site declares (JsonList): a URL template with a page number, and where
  the entries, their URLs and dates sit in the JSON (JMESPath).

Every further list page is asked for one at a time, from the page before it (the next TRS or
VSB page, the next group of dataproxy records, the next JSON page), so that the incremental
crawl (crawler/incremental.py) stops the walk at the first page with nothing new, as it does
for pager links.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import jmespath
from parsel import Selector
from scrapy import FormRequest, Request, Spider
from scrapy.http import HtmlResponse, Response, TextResponse

# What a list page's entries and pagination were read from (the stat newscrawl/list_mechanism/<kind>).
LINKS = "links"  # article links in the HTML
TRS_PAGER = "trs_pager"
VSB_PAGER = "vsb_pager"
HANWEB_DATASTORE = "hanweb_datastore"
HANWEB_DATAPROXY = "hanweb_dataproxy"  # the datastore is paged through dataproxy.jsp
JSON_ENDPOINT = "json_endpoint"  # a declared JsonList
SCRIPT_ENDPOINT = "script_endpoint"  # the page's script loads something from a URL nobody declared
NONE = "none"  # nothing: no article link, no pager, no datastore

# meta of the requests this module makes: which JSON page, which dataproxy group
JSON_PAGE = "newscrawl_json_page"
DATAPROXY = "newscrawl_dataproxy"

DATAPROXY_PATH = "/module/web/jpage/dataproxy.jsp"


@dataclass(frozen=True)
class JsonList:
    """A news list served as JSON, page by page.

    url: the endpoint, with ``{page}`` where the page number goes
    (``https://www.example.gov.cn/api/news?channel=12&pageNo={page}``); entries: JMESPath to the
    list of entries in one page (``data.list``); link: JMESPath to an entry's article URL (relative
    URLs are taken from the endpoint's); date: JMESPath to the date the list gives it (ISO 8601, or
    seconds or milliseconds since 1970), optional; first_page: the number of the first page.
    ValueError says which field is wrong.
    """

    url: str
    entries: str
    link: str
    date: str | None = None
    first_page: int = 1

    def __post_init__(self):
        for name in ("url", "entries", "link", "date"):
            if not isinstance(getattr(self, name), str) and not (name == "date" and self.date is None):
                raise ValueError(f"JSON list {name} must be a string")
        if urlsplit(self.url).scheme not in ("http", "https") or "{page}" not in self.url:
            raise ValueError(f"JSON list url {self.url!r} must be an http(s) URL with {{page}} in it")
        for name in ("entries", "link", "date"):
            expression = getattr(self, name)
            if expression is None and name == "date":
                continue
            try:
                jmespath.compile(expression)
            except jmespath.exceptions.JMESPathError as exc:
                # jmespath's message goes on to show the expression with a caret, on two more lines
                reason = str(exc).splitlines()[0].removesuffix(", for expression:")
                raise ValueError(f"JSON list {name} {expression!r} is not a JMESPath expression: {reason}") from None
        if not isinstance(self.first_page, int) or isinstance(self.first_page, bool):
            raise ValueError("JSON list first_page must be a whole number")

    def page_url(self, page: int) -> str:
        return self.url.replace("{page}", str(page))

    def request(self, page: int, meta: dict) -> Request:
        return Request(self.page_url(page), meta={**meta, JSON_PAGE: page},
                       headers={"Accept": "application/json, text/javascript, */*; q=0.01"})


@dataclass
class ScriptedList:
    """What a list page holds beyond its links.

    html_links: whether the response is an HTML page whose links are read too (not a dataproxy
    answer or a JSON page); records: the page's Hanweb datastore records (or a dataproxy answer's)
    as one HTML page at the list page's URL, to read article links and list dates from; entries:
    (article URL, date shown) of a JSON page; next_pages: the requests for the next list page(s);
    mechanisms: what was found.
    """

    html_links: bool = True
    records: HtmlResponse | None = None
    entries: list[tuple[str, date | None]] = field(default_factory=list)
    next_pages: list[Request] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)


def read_scripted_list(response: Response, list_meta: dict, json_list: JsonList | None = None,
                       article_pattern: str = "") -> ScriptedList:
    """Reads what a list page's CMS scripts would write. list_meta is the meta every further
    list request carries (spiders/base.py: the page kind)."""
    if JSON_PAGE in response.meta and json_list is not None:
        return _json_page(response, list_meta, json_list, article_pattern)
    if DATAPROXY in response.meta:
        return _dataproxy_answer(response, list_meta)
    if not isinstance(response, HtmlResponse):
        return ScriptedList(html_links=False)
    found = ScriptedList()
    scripts = "\n".join(response.xpath("//script[not(@src)]/text()").getall())
    for mechanism, next_url in ((TRS_PAGER, _trs_next_page(response.url, scripts)),
                                (VSB_PAGER, _vsb_next_page(response))):
        if next_url:
            found.mechanisms.append(mechanism)
            found.next_pages.append(Request(urljoin(response.url, next_url), meta=dict(list_meta)))
    _read_datastores(response, list_meta, found)
    return found


def report_list_mechanisms(spider: Spider, response: Response, mechanisms: list[str], articles: int) -> None:
    """Says what a start page's list was read from: the stat newscrawl/list_mechanism/<kind> once
    per kind found, and a log line (INFO; WARNING when the page gave no article at all but names a
    URL its script loads data from: that is where such a list usually comes from)."""
    kinds = list(dict.fromkeys(mechanisms))
    endpoint = _script_endpoint(response) if not articles else None
    if endpoint:
        kinds.append(SCRIPT_ENDPOINT)
    for kind in kinds or [NONE]:
        spider.crawler.stats.inc_value(f"newscrawl/list_mechanism/{kind}")
    read = ", ".join(kinds) or NONE
    if articles:
        spider.logger.info("start page %s: %d article links, list read from %s", response.url, articles, read)
    elif endpoint:  # a hint beside the run's own warning (crawler/outcomes.py) that no article link was found
        spider.logger.warning("start page %s: no article link found; its script loads data from %s: "
                              "declare it as a JSON list", response.url, endpoint)
    else:
        spider.logger.info("start page %s: no article link found (list read from %s)", response.url, read)


# -- TRS and VSB pagers ------------------------------------------------------------------

_JS_VALUE = r"""-?\d+|"[^"]*"|'[^']*'"""
_JS_VARIABLE = re.compile(rf"\bvar\s+(\w+)\s*=\s*({_JS_VALUE})")
_CREATE_PAGE_HTML = re.compile(r"(function\s+)?\bcreatePageHTML\s*\(([^()]*)\)")
_PAGE_NAME_IN_SCRIPT = re.compile(r"""["']([\w.-]+)_["']\s*\+\s*\w+\s*\+\s*["']\.(\w+)["']""")
_PAGE_NAME_IN_URL = re.compile(r"/([\w.-]+?)(?:_\d+)?\.(s?html?)$")
_VSB_GOTO_PAGE = re.compile(r"_simple_list_gotopage_fun\(\s*(\d+)")
_VSB_PAGE_URL = re.compile(r"^(.*?/[\w-]+)(?:/(\d+))?\.htm$")


def _js_value(token: str, variables: dict[str, str]):
    """A literal or a variable of the page's scripts as Python: int, str, or None if unknown."""
    token = variables.get(token.strip(), token.strip())
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return None


def _trs_next_page(url: str, scripts: str) -> str | None:
    """The URL (relative to the list page) of the page after this one, as TRS's pager writes it."""
    variables = dict(_JS_VARIABLE.findall(scripts))
    for definition, arguments in _CREATE_PAGE_HTML.findall(scripts):
        if definition:
            continue
        values = [_js_value(argument, variables) for argument in arguments.split(",")]
        if len(values) >= 5 and isinstance(values[0], str):  # Hycloud: (element, pages, current, name, ext, records)
            (pages, current, name, ext), first = values[1:5], 1
        elif len(values) >= 4:  # WCM: (pages, current, name, ext)
            (pages, current, name, ext), first = values[:4], 0
        else:
            continue
        if isinstance(pages, int) and isinstance(current, int) and isinstance(name, str) and isinstance(ext, str):
            return f"{name}_{current + 1}.{ext}" if current + 1 < first + pages else None
    # no call to read: a pager that writes its links itself from countPage and currentPage
    count, current = _js_value("countPage", variables), _js_value("currentPage", variables)
    if not isinstance(count, int):
        return None
    current = current if isinstance(current, int) else 0
    named = _PAGE_NAME_IN_SCRIPT.search(scripts) or _PAGE_NAME_IN_URL.search(urlsplit(url).path)
    if named is None or current + 1 > count - 1:
        return None
    return f"{named.group(1)}_{current + 1}.{named.group(2)}"


def _vsb_next_page(response: HtmlResponse) -> str | None:
    """VSB's next list page: list.htm → list/{pages - 1}.htm → … → list/1.htm."""
    pages = _VSB_GOTO_PAGE.search(response.text)
    shape = _VSB_PAGE_URL.match(urlsplit(response.url).path)
    if pages is None or shape is None or int(pages.group(1)) < 2:
        return None
    stem, current = shape.group(1), shape.group(2)
    following = int(pages.group(1)) - 1 if current is None else int(current) - 1
    return f"{stem}/{following}.htm" if following >= 1 else None


# -- Hanweb datastores and dataproxy.jsp ----------------------------------------------------

_JPAGE_CALL = re.compile(r"""\$\(\s*['"]#([\w-]+)['"]\s*\)\s*\.jpage\(\s*\{(.*?)\}\s*\)""", re.DOTALL)
_JS_OBJECT = re.compile(r"\bvar\s+(\w+)\s*=\s*\{([^{}]*)\}")
_JS_PROPERTY = re.compile(rf"""(\w+)\s*:\s*({_JS_VALUE}|\w+)""")


def _read_datastores(response: HtmlResponse, list_meta: dict, found: ScriptedList) -> None:
    records = []
    scripts = "\n".join(response.xpath("//script[not(@src)]/text()").getall())
    for datastore in response.xpath("//script[@type='text/xml']"):
        xml = Selector(text=datastore.xpath("text()").get() or "", type="xml")
        if not xml.xpath("/datastore"):
            continue
        if HANWEB_DATASTORE not in found.mechanisms:
            found.mechanisms.append(HANWEB_DATASTORE)
        embedded = xml.xpath("//recordset/record/text()").getall()
        records += embedded
        paging = _jpage_paging(response, scripts, datastore.xpath("../@id").get(), xml, len(embedded))
        if paging and paging["next"] <= paging["total"]:
            found.mechanisms.append(HANWEB_DATAPROXY)
            found.next_pages.append(_dataproxy_request(paging, list_meta))
    if records:
        found.records = _records_page(response.url, records)


def _jpage_paging(response: HtmlResponse, scripts: str, unit: str | None, xml: Selector, embedded: int) -> dict | None:
    """How the page's jpage asks dataproxy.jsp for the records it does not embed: the proxy URL,
    the form (the column's parameters), records per page and per request, the total, the next one."""
    calls = {unit_id: body for unit_id, body in _JPAGE_CALL.findall(scripts)}
    settings_text = calls.get(unit or "") or next(iter(calls.values()), None)
    if settings_text is None:
        return None
    objects = {name: body for name, body in _JS_OBJECT.findall(scripts)}
    settings = {key: _js_value(value, {}) if value not in objects else value
                for key, value in _JS_PROPERTY.findall(settings_text)}
    total, per_page = settings.get("totalRecord"), settings.get("perPage")
    if not isinstance(total, int) or not isinstance(per_page, int) or per_page < 1:
        return None
    form = {}
    next_group = Selector(text=xml.xpath("//nextgroup/text()").get() or "").xpath("//a/@href").get()
    if next_group:  # <nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&columnid=…">
        form.update((key, value) for key, value in parse_qsl(urlsplit(next_group).query) if key != "page")
    parameters = settings.get("ajaxParam")
    parameters = objects.get(parameters) if isinstance(parameters, str) else None
    parameters = parameters or objects.get(f"param_{unit}")
    if parameters:  # var param_70215 = {col:1, webid:12, columnid:4521, unitid:'70215', …}
        form.update((key, str(_js_value(value, {}))) for key, value in _JS_PROPERTY.findall(parameters)
                    if _js_value(value, {}) is not None)
    if "columnid" not in form:
        return None
    group_size = settings.get("groupSize")
    group = per_page * group_size if isinstance(group_size, int) and group_size > 0 else max(embedded, per_page)
    proxy = settings.get("proxyUrl") if isinstance(settings.get("proxyUrl"), str) else DATAPROXY_PATH
    return {"proxy": urljoin(response.url, proxy), "form": form, "per_page": per_page, "group": group,
            "total": total, "next": embedded + 1}


def _dataproxy_request(paging: dict, list_meta: dict) -> FormRequest:
    """The POST jpage makes for the next group of records."""
    end = min(paging["next"] + paging["group"] - 1, paging["total"])
    query = urlencode({"startrecord": paging["next"], "endrecord": end, "perpage": paging["per_page"]})
    return FormRequest(f"{paging['proxy']}?{query}", formdata=paging["form"],
                       headers={"X-Requested-With": "XMLHttpRequest",
                                "Accept": "application/xml, text/xml, */*; q=0.01"},
                       meta={**list_meta, DATAPROXY: {**paging, "next": end + 1}})


def _dataproxy_answer(response: Response, list_meta: dict) -> ScriptedList:
    """dataproxy.jsp's answer: <datastore><totalrecord>…</totalrecord><recordset><record>…"""
    found = ScriptedList(html_links=False, mechanisms=[HANWEB_DATAPROXY])
    if not isinstance(response, TextResponse):
        return found
    xml = Selector(text=response.text, type="xml")
    records = xml.xpath("//recordset/record/text()").getall()
    paging = dict(response.meta[DATAPROXY])
    total = xml.xpath("//totalrecord/text()").get("").strip()
    paging["total"] = int(total) if total.isdigit() else paging["total"]
    if records:
        found.records = _records_page(response.url, records)
        if paging["next"] <= paging["total"]:
            found.next_pages.append(_dataproxy_request(paging, list_meta))
    return found


def _records_page(url: str, records: list[str]) -> HtmlResponse:
    """Datastore records (HTML fragments, one list entry each) as one HTML page at the list's URL."""
    entries = "".join(f'<div class="record">{record}</div>' for record in records)
    return HtmlResponse(url, body=f"<html><body>{entries}</body></html>".encode("utf-8"), encoding="utf-8")


# -- JSON list endpoints --------------------------------------------------------------------

_ENDPOINT_IN_SCRIPT = re.compile(
    r"""(?:\$\.(?:ajax|get|post|getJSON)\s*\(\s*|\bfetch\s*\(\s*|\burl\s*:\s*)["']([^"']+)["']""")


def _script_endpoint(response: Response) -> str | None:
    """The URL a page's inline script loads data from ($.ajax, $.get, $.post, $.getJSON, fetch, url: …)."""
    if not isinstance(response, HtmlResponse):
        return None
    scripts = "\n".join(response.xpath("//script[not(@src)]/text()").getall())
    for match in _ENDPOINT_IN_SCRIPT.finditer(scripts):
        if not re.search(r"\.(?:js|css|png|jpe?g|gif)(?:\?|$)|dataproxy\.jsp", match.group(1)):
            return urljoin(response.url, match.group(1))
    return None


def _json_page(response: Response, list_meta: dict, json_list: JsonList, article_pattern: str) -> ScriptedList:
    found = ScriptedList(html_links=False, mechanisms=[JSON_ENDPOINT])
    try:
        entries = jmespath.search(json_list.entries, json.loads(response.text)) if isinstance(
            response, TextResponse) else None
    except ValueError:
        entries = None
    for entry in entries if isinstance(entries, list) else ():
        link = jmespath.search(json_list.link, entry)
        if not isinstance(link, str) or not link.strip():
            continue
        url = urljoin(response.url, link.strip())
        if re.search(article_pattern, url):
            shown = jmespath.search(json_list.date, entry) if json_list.date else None
            found.entries.append((url, _shown_date(shown)))
    # a page with no entries is the end; so is one with the last page's entries (the endpoint ignores the page number)
    seen = hashlib.sha1("\n".join(url for url, _ in found.entries).encode()).hexdigest()
    if found.entries and seen != response.meta.get("newscrawl_json_seen"):
        page = response.meta[JSON_PAGE] + 1
        found.next_pages.append(json_list.request(page, {**list_meta, "newscrawl_json_seen": seen}))
    return found


def _shown_date(value) -> date | None:
    """An entry's date: ISO 8601 text (2024-05-12, 2024-05-12 10:00:00) or a Unix time in s or ms."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc).date()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("/", "-")).date()
        except ValueError:
            return None
    return None
