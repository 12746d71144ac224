"""The application shell: health, metrics, docs offline, error format, API keys."""

from __future__ import annotations


def test_healthz(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok"}


def test_metrics_counts_requests_by_route_template(client):
    client.get("/healthz")
    client.get("/admin/api-keys/123")
    text = client.get("/metrics").text
    assert 'shopops_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "shopops_http_request_seconds_bucket" in text


def test_openapi_and_offline_docs(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "shopops"
    html = client.get("/docs").text
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    asset = html.split('src="')[1].split('"')[0]
    assert client.get(asset).status_code == 200


def test_unknown_route_is_json_404(client):
    resp = client.get("/nope")
    assert resp.status_code == 404
    assert resp.json()["code"] == "not_found"


def test_malformed_json_is_400_and_invalid_body_is_422(client, api_headers):
    admin = api_headers("admin")
    resp = client.post(
        "/admin/api-keys",
        content=b'{"role": "analyst",',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "malformed_json"
    resp = client.post("/admin/api-keys", json={"role": "pirate"}, headers=admin)
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "invalid_input" and "role" in body["message"]
    resp = client.post("/admin/api-keys", json={"role": "analyst", "extra": 1}, headers=admin)
    assert resp.status_code == 422


def test_key_lifecycle(client, api_headers):
    admin = api_headers("admin")
    created = client.post("/admin/api-keys", json={"role": "analyst", "name": "bi"}, headers=admin)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("sk_") and created.json()["prefix"] == key[:10]
    listed = client.get("/admin/api-keys", headers=admin).json()
    assert all("key" not in k for k in listed)
    # The new analyst key works until it is revoked.
    analyst = {"Authorization": f"Bearer {key}"}
    assert client.get("/admin/api-keys", headers=analyst).status_code == 403
    client.delete(f"/admin/api-keys/{created.json()['id']}", headers=admin)
    assert client.get("/admin/api-keys", headers=analyst).json()["code"] == "invalid_api_key"
    # A storefront key must name its customer; staff keys must not.
    resp = client.post("/admin/api-keys", json={"role": "storefront"}, headers=admin)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_input"
    assert client.delete("/admin/api-keys/999", headers=admin).status_code == 404
