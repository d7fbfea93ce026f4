"""The explorer in a real headless Chromium (Debian's package, driven by playwright):
the page loads with tiles and points drawn, no failed request and no console error;
clicking a photo draws its heatmap; a SQL query puts its rows on the map."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield browser
        browser.close()


def open_page(browser, url: str):
    """The explorer at ``url`` in a new page, loaded; ``page.problems`` collects console
    errors, page errors, failed requests and answers of 400 and more."""
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url}"))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"))
    page.goto(url + "/")
    page.wait_for_function("() => window.geovecExplorer && window.geovecExplorer.ready")
    page.wait_for_load_state("networkidle")
    return page


@pytest.fixture(scope="module")
def page(live_server, browser):
    page = open_page(browser, live_server.url)
    yield page
    page.close()


def click_photo(page, photo: dict) -> None:
    """Centre the map on ``photo`` (lon, lat) at zoom 19 and click it."""
    at = page.evaluate(
        """([lat, lon]) => {
            window.geovecMap.setView([lat, lon], 19, {animate: false});
            const at = window.geovecMap.latLngToContainerPoint([lat, lon]);
            return {x: at.x, y: at.y};
        }""",
        [photo["lat"], photo["lon"]],
    )
    page.wait_for_load_state("networkidle")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])


def drawn_pixels(page, selector: str) -> int:
    """Non-transparent pixels summed over the canvases or images matching ``selector``."""
    return page.evaluate(
        """(selector) => {
            let n = 0;
            for (const node of document.querySelectorAll(selector)) {
                if (!node.complete && node.tagName === "IMG") continue;
                const c = document.createElement("canvas");
                c.width = node.width; c.height = node.height;
                const ctx = c.getContext("2d");
                ctx.drawImage(node, 0, 0);
                const data = ctx.getImageData(0, 0, c.width, c.height).data;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
            }
            return n;
        }""",
        selector,
    )


def test_page_draws_tiles_and_points(page, world_db, tmp_path):
    import geovec

    state = page.evaluate("() => ({n: window.geovecExplorer.loadedPoints})")
    assert state["n"] == geovec.open(world_db, create=False).count("ground")
    assert drawn_pixels(page, ".leaflet-tile-pane img.leaflet-tile-loaded") > 50_000
    assert drawn_pixels(page, ".leaflet-marker-pane canvas") > 200
    page.screenshot(path=str(tmp_path / "explorer.png"))
    assert not page.problems, page.problems


def test_clicking_a_photo_draws_its_heatmap(page, tmp_path):
    target = page.evaluate(
        """() => {
            const s = window.geovecExplorer, first = s.info.regions[0].region;
            const p = s.points.find((q) => q.isolated && q.region === first);
            const at = window.geovecMap.latLngToContainerPoint([p.lat, p.lon]);
            return {id: p.id, x: at.x, y: at.y};
        }"""
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + target["x"], box["y"] + target["y"])
    page.wait_for_function("() => window.geovecExplorer.heatmapTiles > 0")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#selection-title") == f"Photo {target['id']}"
    assert "rank " in page.inner_text("#heatmap-rank")
    page.wait_for_function("() => document.querySelectorAll('#neighbours img').length > 0")
    page.screenshot(path=str(tmp_path / "heatmap.png"))
    assert not page.problems, page.problems


def test_a_photo_whose_true_tile_ranks_first_reads_rank_1(browser, tmp_path):
    """The API's true_rank 0 (no tile closer than the true one) is the best result: the
    panel says "rank 1 of N" and the true tile's tooltip the same (before issue 19 the
    panel said "position unknown", and elsewhere counted from 0 where the tooltips
    counted from 1). Photo q1 lies in tile t1, and every aerial image of a training pair
    looks like t1, so whatever neighbours q1 has, t1 scores best."""
    from tests.explorer.conftest import LiveServer
    from tests.stores import store_from_arrays

    tiles = [
        ({"id": f"t{i}", "region": "r", "lon": 0.01 * i, "lat": 0.0, "size_m": 480.0}, [i, 0])
        for i in range(4)
    ]
    pairs = [f"a{i}" for i in range(3)]
    ground = [
        ({"id": a, "region": "r", "lon": 0.5, "lat": 0.5, "isolated": False, "pair": a}, [i, 0])
        for i, a in enumerate(pairs)
    ]
    ground.append(
        ({"id": "q1", "region": "r", "lon": 0.0101, "lat": 0.0005, "isolated": True}, [9, 9])
    )
    overhead = [({"id": a, "region": "r", "lon": 0.5, "lat": 0.5}, [1, 0]) for a in pairs]
    store = store_from_arrays(tmp_path / "db", ground, overhead, tiles)
    with LiveServer(store.path) as server:
        page = open_page(browser, server.url)
        try:
            answer = page.evaluate(
                """async () => (await fetch("/api/heatmap?id=q1&feature=gist")).json()"""
            )
            assert answer["true_rank"] == 0 and answer["true_tile"] == "t1"
            click_photo(page, {"lon": 0.0101, "lat": 0.0005})
            page.wait_for_function(
                """() => document.querySelector("#selection-title").textContent === "Photo q1"
                    && document.querySelector("#heatmap-rank") !== null"""
            )
            text = page.inner_text("#heatmap-rank")
            assert "t1: rank 1 of 4" in text and "unknown" not in text, text
            tooltip = page.evaluate("() => window.geovecExplorer.tileTooltip('t1')")
            assert tooltip.startswith("tile t1: rank 1 of 4"), tooltip
            page.wait_for_load_state("networkidle")
            images = [p for p in page.problems if p.startswith("404 ") and "/api/image/" in p]
            assert images  # the rows name no files: their images are 404, nothing else
            problems = [p for p in page.problems if p not in images and "404 (Not" not in p]
            assert not problems, problems
        finally:
            page.close()


def test_the_heatmap_note_on_left_out_neighbours_is_shown(page):
    """A training photo: its training neighbours within the isolation radius are left
    out of its nearest neighbours, and the panel says so (the API's note)."""
    target = page.evaluate(
        """async () => {
            const s = window.geovecExplorer;
            for (const p of s.points.filter((q) => !q.isolated)) {
                const query = new URLSearchParams({id: p.id, feature: s.feature});
                const h = await (await fetch("/api/heatmap?" + query)).json();
                if (h.note && h.left_out > 0) return {...p, note: h.note};
            }
            return null;
        }"""
    )
    assert target, "no training photo of the tiny world with neighbours left out"
    click_photo(page, target)
    page.wait_for_function(
        """(id) => document.querySelector("#selection-title").textContent === "Photo " + id
            && document.querySelector("#heatmap-note") !== null""",
        arg=target["id"],
    )
    assert page.inner_text("#heatmap-note") == target["note"]
    assert "left out" in target["note"]
    page.wait_for_load_state("networkidle")
    assert not page.problems, page.problems
    page.evaluate(  # back to the first region, where the other tests click
        """() => {
            const r = window.geovecExplorer.info.regions[0];
            window.geovecMap.fitBounds([[r.south, r.west], [r.north, r.east]],
                                       {padding: [20, 20], animate: false});
        }"""
    )
    page.wait_for_load_state("networkidle")


def test_a_sql_query_puts_its_rows_on_the_map(page, world_db):
    import geovec

    page.fill("#sql-text", "select id, lon, lat from ground where isolated")
    page.click("#sql-run")
    page.wait_for_function("() => window.geovecExplorer.sqlPoints > 0")
    isolated = geovec.open(world_db, create=False).count("ground", "isolated")
    assert page.evaluate("() => window.geovecExplorer.sqlPoints") == isolated
    assert f"{isolated} on the map" in page.inner_text("#sql-status")
    page.fill("#sql-text", "drop table ground")
    page.click("#sql-run")
    page.wait_for_function(
        "() => document.querySelector('#sql-status').className.includes('error')"
    )
    assert "DROP" in page.inner_text("#sql-status")
    page.problems.clear()  # the refused query's 400 is expected


def test_clicking_a_tile_searches_from_it(page):
    target = page.evaluate(
        """() => {
            const s = window.geovecExplorer, r = s.info.regions[0];
            const centre = [(r.south + r.north) / 2, (r.west + r.east) / 2];
            const at = window.geovecMap.latLngToContainerPoint(centre);
            return {x: at.x, y: at.y};
        }"""
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + target["x"] + 3, box["y"] + target["y"] + 3)
    page.wait_for_function("() => window.geovecExplorer.searchHits > 0")
    assert page.inner_text("#selection-title").startswith("Aerial tile")
    assert not page.problems, page.problems
