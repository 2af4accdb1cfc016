"""The pages the sandbox's Logfire links point at: a project page and its Explore view showing a query."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from sandbox.logfire.projects import Directory, Project


def ui_routes(directory: Directory, region_label: str) -> list[Route]:
    routes = []
    for project in directory.projects:
        path = f"/{project.organization.name}/{project.name}"
        routes.append(Route(path, _page_for(project, region_label, "Live"), methods=["GET"]))
        routes.append(Route(f"{path}/explore", _page_for(project, region_label, "Explore"), methods=["GET"]))
    return routes


def _page_for(project: Project, region_label: str, view: str):
    async def page(request: Request) -> HTMLResponse:
        rows = "".join(
            f"<tr><th>{html.escape(key)}</th><td><pre>{html.escape(value)}</pre></td></tr>"
            for key, value in request.query_params.items()
        )
        title = f"{project.slug} · {view} · {region_label} (sandbox)"
        return HTMLResponse(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><table>{rows}</table></body></html>"
        )

    return page
