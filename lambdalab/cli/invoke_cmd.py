"""``lambdalab invoke``: one headless invocation with its log, as ``sam local invoke``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from lambdalab.cli.common import function_name_for, read_json_file, split_handler
from lambdalab.engine.model import FunctionConfig
from lambdalab.engine.service import LambdaService


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "invoke",
        help="run a handler once (or --repeat N times) and print its log and response",
        description=(
            "Run FILE.py:function on the simulated Lambda service. The log lines go to "
            "stderr and the response to stdout, as sam local invoke does."
        ),
    )
    parser.add_argument("handler_spec", metavar="FILE.py:function")
    parser.add_argument(
        "--event", metavar="EVENT.json", help="the event (- for stdin); default {}"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=3,
        metavar="S",
        help="timeout in seconds (default 3)",
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=128,
        metavar="MB",
        help="memory size (default 128)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="invoke N times in a row: the first is cold, the rest warm",
    )
    parser.add_argument(
        "--type",
        choices=["RequestResponse", "Event", "DryRun"],
        default="RequestResponse",
        help="invocation type (default RequestResponse)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for ids and timings")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    code_dir, handler = split_handler(args.handler_spec)
    event = read_json_file(args.event, "event file") if args.event else {}
    if not 1 <= args.repeat <= 1000:
        print(
            f"lambdalab: --repeat {args.repeat} must be between 1 and 1000.",
            file=sys.stderr,
        )
        return 2
    service = LambdaService(seed=args.seed)
    try:
        config = FunctionConfig(
            function_name_for(code_dir / handler.split(":")[0]),
            handler=handler,
            code_dir=code_dir,
            timeout_s=args.timeout,
            memory_mb=args.memory,
        )
        service.create_function(config)
        printed = 0
        for _ in range(args.repeat):
            inv = service.invoke(config.name, event, args.type)
            if args.type == "Event":
                service.run()
            else:
                service.run_until_done(inv)
            for record in service.trace.since(printed):
                if record.kind == "log":
                    print(record.data["message"], file=sys.stderr)
            printed = service.trace.count
            assert inv.response is not None
            _print_response(
                inv.response.status_code, inv.response.headers, inv.response.payload
            )
        return 0
    finally:
        service.close()


def _print_response(status: int, headers: dict[str, str], payload: str) -> None:
    if status != 200 or headers.get("X-Amz-Function-Error"):
        meta = {
            "StatusCode": status,
            **{k: v for k, v in headers.items() if k.startswith("X-Amz-Function")},
        }
        print(json.dumps(meta), file=sys.stderr)
    print(payload)
