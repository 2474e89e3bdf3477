"""``lambdalab serve --api-port``: each learner's lab behind their own endpoint prefix.

A real learner app (Textual under textual-serve's web driver) is started through the
websocket, opens lesson 1 with a key press, and botocore then invokes its function via
``--endpoint-url http://127.0.0.1:PORT/<learner>``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from aiohttp.test_utils import TestClient, TestServer
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdalab.serve.invoke_api import bind_socket
from lambdalab.serve.server import ClassroomServer
from lambdalab.serve.status import read_statuses


def client_for(url: str) -> Any:
    return botocore.session.get_session().create_client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(retries={"max_attempts": 0}, read_timeout=30),
    )


def free_port() -> int:
    sock = bind_socket("127.0.0.1", 0)
    port = int(sock.getsockname()[1])
    sock.close()
    return port


async def test_each_learner_reaches_their_own_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAMBDALAB_HOME", str(tmp_path / "home"))
    api_port = free_port()
    status_dir = tmp_path / "status"
    status_dir.mkdir()
    server = ClassroomServer(status_dir=status_dir, api_port=api_port)
    http = TestClient(TestServer(await server._make_app()))
    await http.start_server()
    try:
        socket = await http.ws_connect("/ws/Ada?width=120&height=40")
        reader = asyncio.create_task(socket.receive_bytes())  # the app is drawing
        end = time.monotonic() + 30
        while (
            "ada" not in read_statuses(status_dir)
            or not read_statuses(status_dir)["ada"].api_port
        ):
            assert time.monotonic() < end, "the learner's app never reported its API"
            await asyncio.sleep(0.1)
        lambda_ = client_for(f"http://127.0.0.1:{api_port}/ada")
        # On the course map no lab is open yet: 404, in Lambda's error shape.
        with pytest.raises(ClientError) as caught:
            await asyncio.to_thread(lambda_.invoke, FunctionName="hello")
        assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
        await socket.send_json(["stdin", "\r"])  # open lesson 1
        while read_statuses(status_dir)["ada"].lesson != "first-invocation":
            assert time.monotonic() < end, "lesson 1 never opened"
            await asyncio.sleep(0.1)
        result = await asyncio.to_thread(
            lambda_.invoke, FunctionName="hello", Payload=b'{"name": "Ada"}'
        )
        assert result["StatusCode"] == 200
        assert result["ExecutedVersion"] == "$LATEST"
        assert "Ada" in result["Payload"].read().decode()
        # Another name has no lab here.
        with pytest.raises(ClientError) as other:
            await asyncio.to_thread(
                client_for(f"http://127.0.0.1:{api_port}/bob").invoke,
                FunctionName="hello",
            )
        assert other.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        reader.cancel()
        await socket.close()
    finally:
        await http.close()
