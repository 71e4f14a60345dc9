import json
def test_probe(api_client, db, settings):
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    r = api_client.get("/api/v1/docs")
    print(r.status_code); print(r.content.decode()[:3000])
    r = api_client.get("/api/v1/openapi.json")
    print(sorted(r.json()["paths"]))
