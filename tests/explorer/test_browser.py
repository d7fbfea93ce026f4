"""The explorer in a real headless Chromium (Debian's package, driven by playwright):
the page loads with tiles and points drawn, no failed request and no console error;
clicking a photo draws its heatmap; a SQL query puts its rows on the map."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page(live_server, chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.problems = []
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url}"))
        page.on(
            "response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}")
        )
        page.goto(live_server.url + "/")
        page.wait_for_function("() => window.geovecExplorer && window.geovecExplorer.ready")
        page.wait_for_load_state("networkidle")
        yield page
        browser.close()


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
    assert "ranked" in page.inner_text("#heatmap-rank")
    page.wait_for_function("() => document.querySelectorAll('#neighbours img').length > 0")
    page.screenshot(path=str(tmp_path / "heatmap.png"))
    assert not page.problems, page.problems


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
