"""The HTTP service (arabictopics/serve.py): in-process through Starlette's
TestClient, and once as a real server in a subprocess on a loopback port."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason='the [serve] extra is not installed: pip install "arabictopics[serve]"')
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx")

from starlette.testclient import TestClient

import arabictopics
from arabictopics.cli import main
from arabictopics.serve import DEFAULT_MAX_BODY, create_app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "article.txt").read_text(encoding="utf-8")
SHORT = "ضبط شحنة كبتاغون في منفذ جابر الحدودي وتوقيف ثلاثة مهربين"
HTML = "<html><body><h1>ضبط شحنة حشيش</h1><p>أعلنت الشرطة ضبط الشحنة في الميناء. وأوقفت ثلاثة مهربين.</p></body></html>"


@pytest.fixture(scope="module")
def model():
    return arabictopics.load_model()


@pytest.fixture(scope="module")
def client(model):
    with TestClient(create_app(model)) as test_client:
        yield test_client


def expected(model, text, rid=None):
    return {"id": rid, **json.loads(json.dumps(model.classify(text).to_dict()))}


class TestClassify:
    def test_single_article_is_the_cli_record(self, client, model):
        response = client.post("/v1/classify", json={"id": "a1", "text": EXAMPLE})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        record = response.json()
        assert record == expected(model, EXAMPLE, "a1")
        assert list(record)[:5] == ["id", "labels", "scores", "mentions", "evidence"]
        assert record["labels"] and set(record["scores"]) == {str(c) for c in model.classes_}

    def test_batch_keeps_order_and_ids(self, client, model):
        texts = [EXAMPLE, SHORT, "", HTML, "مباراة كرة القدم انتهت بالتعادل"]
        articles = [{"id": f"n{i}", "text": text} for i, text in enumerate(texts)]
        response = client.post("/v1/classify", json={"articles": articles})
        assert response.status_code == 200
        results = response.json()["results"]
        assert results == [expected(model, text, f"n{i}") for i, text in enumerate(texts)]

    def test_batch_longer_than_a_chunk(self, client, model):
        texts = [SHORT, EXAMPLE] * 70  # 140 articles: three chunks of scoring
        response = client.post("/v1/classify", json={"articles": [{"text": t} for t in texts]})
        results = response.json()["results"]
        assert len(results) == 140
        assert results[0] == expected(model, SHORT) and results[139] == expected(model, EXAMPLE)

    def test_empty_batch(self, client):
        assert client.post("/v1/classify", json={"articles": []}).json() == {"results": []}

    @pytest.mark.parametrize(("given", "returned"), [(None, None), ("", None), (7, "7"), ("x/1", "x/1")])
    def test_ids(self, client, given, returned):
        body = {"text": SHORT} if given is None else {"text": SHORT, "id": given}
        assert client.post("/v1/classify", json=body).json()["id"] == returned

    def test_with_text_gives_the_article_as_read(self, client):
        record = client.post("/v1/classify", json={"text": HTML, "with_text": True}).json()
        assert "<p>" not in record["text"] and "ضبط شحنة حشيش" in record["text"]
        for sentence in [*record["evidence"].values(), *record["mentions"].values()]:
            assert sentence in record["text"]
        assert "text" not in client.post("/v1/classify", json={"text": HTML}).json()

    def test_long_article_is_scored_on_its_beginning(self, client, model):
        text = EXAMPLE + " " + "و" * (model.max_chars + 10)
        record = client.post("/v1/classify", json={"text": text}).json()
        assert record["truncated"] is True
        assert record == expected(model, text[: model.max_chars]) | {"truncated": True}
        assert "truncated" not in client.post("/v1/classify", json={"text": SHORT}).json()

    def test_without_the_lifespan(self, model):
        """Mounted in another app, the lifespan does not run: articles are scored without batching."""
        bare = TestClient(create_app(model))
        texts = [SHORT] * 70
        results = bare.post("/v1/classify", json={"articles": [{"text": t} for t in texts]}).json()["results"]
        assert results == [expected(model, SHORT)] * 70

    def test_content_type_may_be_omitted_or_json_with_charset(self, client):
        body = json.dumps({"text": SHORT}).encode()
        for headers in ({}, {"content-type": "application/json; charset=utf-8"}):
            assert client.post("/v1/classify", content=body, headers=headers).status_code == 200


class TestClientErrors:
    """Each mistake: its status, a JSON error that says what to do, and never a traceback."""

    @pytest.mark.parametrize(
        ("body", "status", "kind", "says"),
        [
            (b'{"text": ', 400, "malformed_json", "not valid JSON"),
            (b"", 400, "malformed_json", "empty"),
            (b"\xff\xfe{}", 400, "malformed_json", "not UTF-8"),
            (b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json", "not valid JSON"),
            (b'["text"]', 422, "invalid_request", "not an object"),
            (b'{"id": 1}', 422, "missing_text", 'has no "text"'),
            (b'{"text": 5}', 422, "text_not_string", "a number, not a string"),
            (b'{"text": ["a"]}', 422, "text_not_string", "an array, not a string"),
            (b'{"text": "\\ud800x"}', 422, "invalid_text", "unpaired surrogate U+D800"),
            (b'{"text": "x", "id": {"a": 1}}', 422, "invalid_id", "give a string or a number"),
            (b'{"articles": {"text": "x"}}', 422, "invalid_request", "not an array"),
            (b'{"articles": [{"text": "x"}, {"id": 2}]}', 422, "missing_text", "articles[1]"),
            (b'{"articles": [{"text": "x"}, "y"]}', 422, "invalid_request", "articles[1] is a string"),
        ],
    )
    def test_bad_body(self, client, body, status, kind, says):
        response = client.post("/v1/classify", content=body, headers={"content-type": "application/json"})
        assert response.status_code == status
        answer = response.json()
        assert answer["kind"] == kind and says in answer["error"], answer
        assert "Traceback" not in response.text

    def test_body_over_max_body_is_413(self, model):
        with TestClient(create_app(model, max_body=1000)) as small:
            response = small.post("/v1/classify", json={"text": "ا" * 2000})
            assert response.status_code == 413
            assert response.json()["kind"] == "body_too_large" and "--max-body" in response.json()["error"]

            def chunks():  # no Content-Length: counted while it is read
                yield b'{"text": "'
                yield b"a" * 2000
                yield b'"}'

            response = small.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
            assert response.status_code == 413
            assert small.post("/v1/classify", json={"text": SHORT}).status_code == 200

    def test_unsupported_content_type(self, client):
        response = client.post("/v1/classify", content=b"text=x", headers={"content-type": "multipart/form-data"})
        assert response.status_code == 415 and "application/x-ndjson" in response.json()["error"]

    def test_unknown_path_and_wrong_method(self, client):
        response = client.get("/v2/classify")
        assert response.status_code == 404 and "/v1/classify" in response.json()["error"]
        response = client.get("/v1/classify")
        assert response.status_code == 405 and response.json()["kind"] == "method_not_allowed"
        assert "POST" in response.headers["allow"]

    def test_server_fault_is_a_json_500(self, model):
        class Broken:
            classes_ = model.classes_
            thresholds_ = model.thresholds_
            max_chars = model.max_chars

            def classify_many(self, texts):
                raise RuntimeError("secret internal detail")

        with TestClient(create_app(Broken()), raise_server_exceptions=False) as broken:
            response = broken.post("/v1/classify", json={"text": SHORT})
            assert response.status_code == 500
            assert response.json()["kind"] == "internal"
            assert "secret" not in response.text and "Traceback" not in response.text
            assert 'arabictopics_errors_total{kind="internal"} 1.0' in broken.get("/metrics").text

    def test_bad_arguments(self, model):
        with pytest.raises(ValueError, match="max_body must be a positive number"):
            create_app(model, max_body=0)
        with pytest.raises(ValueError, match="workers must be a whole number"):
            create_app(model, workers=0)
        with pytest.raises(arabictopics.ModelError):
            create_app("/nonexistent/model.atm")


def ndjson(client, lines, **kwargs):
    body = "".join(line + "\n" for line in lines).encode()
    response = client.post("/v1/classify", content=body, headers={"content-type": "application/x-ndjson"}, **kwargs)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


class TestJsonlStream:
    def test_one_output_per_line_in_order(self, client, model):
        lines = [
            json.dumps({"id": "a", "text": EXAMPLE}, ensure_ascii=False),
            "",
            "not json",
            json.dumps({"id": "b"}),
            json.dumps({"id": "c", "text": SHORT}, ensure_ascii=False),
            json.dumps(["x"]),
            json.dumps({"text": 3}),
        ]
        out = ndjson(client, lines)
        assert [record["id"] for record in out] == ["a", None, "b", "c", None, None]
        assert out[0] == expected(model, EXAMPLE, "a") and out[3] == expected(model, SHORT, "c")
        assert out[1]["error"].startswith("line 3: not valid JSON")
        assert 'has no "text"' in out[2]["error"] and "line 4" in out[2]["error"]
        assert out[4]["error"] == "line 6: expected a JSON object with 'text'"
        assert "not a string" in out[5]["error"]

    def test_many_lines_sent_in_pieces(self, client, model):
        records = [{"id": i, "text": SHORT if i % 2 else EXAMPLE} for i in range(300)]
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()

        def pieces():  # cut anywhere, even inside a character
            for start in range(0, len(body), 7001):
                yield body[start : start + 7001]

        response = client.post("/v1/classify", content=pieces(), headers={"content-type": "application/x-ndjson"})
        out = [json.loads(line) for line in response.text.splitlines()]
        assert [r["id"] for r in out] == [str(i) for i in range(300)]
        assert out[0] == expected(model, EXAMPLE, "0") and out[299] == expected(model, SHORT, "299")

    def test_last_line_without_newline_and_bom(self, client):
        body = b"\xef\xbb\xbf" + json.dumps({"id": "x", "text": SHORT}).encode()
        response = client.post("/v1/classify", content=body, headers={"content-type": "application/x-ndjson"})
        assert [json.loads(line)["id"] for line in response.text.splitlines()] == ["x"]

    def test_a_line_over_max_body_is_an_error_record(self, model):
        with TestClient(create_app(model, max_body=500)) as small:
            lines = [json.dumps({"id": 1, "text": "ا" * 1000}), json.dumps({"id": 2, "text": SHORT})]
            out = ndjson(small, lines)
            assert "longer than the server's limit of 500 bytes" in out[0]["error"]
            assert out[1]["id"] == "2" and "labels" in out[1]

    def test_empty_stream(self, client):
        assert ndjson(client, []) == []


class TestOtherEndpoints:
    def test_themes(self, client, model):
        themes = client.get("/v1/themes").json()["themes"]
        assert [t["label"] for t in themes] == [str(c) for c in model.classes_]
        drugs = next(t for t in themes if t["label"] == "drugs")
        assert drugs["name_ar"] == "المخدرات" and 0 < drugs["threshold"] < 1

    def test_model(self, client, model):
        info = client.get("/v1/model").json()
        assert info["max_chars"] == model.max_chars
        assert info["metadata"]["payload_sha256"] == model.metadata_["payload_sha256"]

    def test_health_and_readiness(self, client):
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"

    def test_metrics(self, model):
        with TestClient(create_app(model)) as fresh:
            fresh.post("/v1/classify", json={"articles": [{"text": SHORT}] * 3})
            fresh.post("/v1/classify", content=b"{", headers={"content-type": "application/json"})
            text = fresh.get("/metrics").text
        assert "arabictopics_articles_total 3.0" in text
        assert 'arabictopics_requests_total{method="POST",route="/v1/classify",status="200"} 1.0' in text
        assert 'arabictopics_errors_total{kind="malformed_json"} 1.0' in text
        assert 'arabictopics_request_duration_seconds_count{route="/v1/classify"} 2.0' in text

    def test_access_log(self, model, caplog):
        with TestClient(create_app(model)) as fresh, caplog.at_level("INFO", logger="arabictopics.access"):
            fresh.post("/v1/classify", json={"articles": [{"text": SHORT}] * 2})
        [line] = [r.getMessage() for r in caplog.records if r.name == "arabictopics.access"]
        assert re.search(r'"POST /v1/classify HTTP/1.1" 200 2 article\(s\) [\d.]+ ms$', line), line

    def test_page_is_served_from_the_package_without_network(self, client):
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert 'src="app.js"' in page.text and 'href="style.css"' in page.text
        for path, kind in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
            response = client.get(path)
            assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
        for name in ("index.html", "app.js", "style.css"):
            source = (ROOT / "arabictopics" / "web" / name).read_text(encoding="utf-8")
            assert not re.search(r"(src|href|url|import)\s*[=(]\s*[\"']?(https?:)?//", source), name
            assert "@import" not in source and "innerHTML" not in source


class TestCommandLine:
    def test_options(self, capsys):
        from arabictopics.cli import _byte_size

        assert _byte_size("32MiB") == DEFAULT_MAX_BODY
        assert _byte_size("500kB") == 500_000 and _byte_size("1024") == 1024
        for bad in ("lots", "12 parsecs", "0"):
            with pytest.raises(SystemExit):
                main(["serve", "--max-body", bad])
        assert "is not a size" in capsys.readouterr().err
        with pytest.raises(SystemExit):
            main(["serve", "--port", "70000"])

    def test_bad_model_file_is_exit_2_before_binding(self, tmp_path, capsys):
        bad = tmp_path / "bad.atm"
        bad.write_bytes(b"not a model")
        assert main(["serve", "--model", str(bad), "--port", "1"]) == 2
        assert "arabictopics: error:" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method, url, body=None, headers=None, timeout=30):
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_real_server_with_two_workers(model, tmp_path):
    """``arabictopics serve --workers 2`` in a subprocess, over HTTP on a loopback port: JSON, a JSONL
    stream, an error, metrics, a client that leaves mid-batch, the access log, and a clean stop on
    SIGTERM that leaves no worker process behind."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w+", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "arabictopics", "serve", "--port", str(port), "--workers", "2"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if http("GET", f"{base}/readyz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready in 60 s"
            time.sleep(0.2)

        status, headers, body = http(
            "POST",
            f"{base}/v1/classify",
            json.dumps({"id": "e", "text": EXAMPLE}).encode(),
            {"Content-Type": "application/json"},
        )
        assert status == 200 and json.loads(body) == expected(model, EXAMPLE, "e")
        lines = "".join(json.dumps({"id": i, "text": SHORT}, ensure_ascii=False) + "\n" for i in range(50)).encode()
        status, headers, body = http("POST", f"{base}/v1/classify", lines, {"Content-Type": "application/x-ndjson"})
        assert status == 200 and [json.loads(line)["id"] for line in body.splitlines()] == [str(i) for i in range(50)]
        status, _, body = http("POST", f"{base}/v1/classify", b"{oops", {"Content-Type": "application/json"})
        assert status == 400 and json.loads(body)["kind"] == "malformed_json"

        # A client that sends 1,500 long articles and leaves at once: its worker stops between chunks of 64.
        big = json.dumps({"articles": [{"text": EXAMPLE * 10}] * 1500}, ensure_ascii=False).encode()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            head = (
                f"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(big)}"
            )
            sock.sendall(head.encode() + b"\r\n\r\n" + big)
        deadline = time.monotonic() + 60
        while True:
            metrics = http("GET", f"{base}/metrics")[2].decode()
            if 'arabictopics_errors_total{kind="cancelled"} 1.0' in metrics:
                break
            assert time.monotonic() < deadline, metrics
            time.sleep(0.2)
        articles = float(re.search(r"^arabictopics_articles_total (\S+)$", metrics, re.M).group(1))
        assert 51 <= articles < 51 + 1500, "the cancelled batch was scored to the end"
        assert 'arabictopics_errors_total{kind="malformed_json"} 1.0' in metrics
    finally:
        server.terminate()
        try:
            code = server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
        log.seek(0)
        output = log.read()
        log.close()
    # uvicorn shuts down gracefully, then ends by the signal it caught, as a process without a handler would
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert re.search(r"scoring in 2 worker processes \((\d+), (\d+)\)", output), output
    assert re.search(r'"POST /v1/classify HTTP/1.1" 200 50 article\(s\)', output), output
    workers = [int(pid) for pid in re.search(r"scoring in 2 worker processes \((\d+), (\d+)\)", output).groups()]
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers), "a worker process outlived the server"
