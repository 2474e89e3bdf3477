"""An order worker that takes two seconds per order."""

import time


def handler(event, context):
    order_id = event["order_id"]
    print(f"Packing order {order_id}...")
    time.sleep(2)
    print(f"Order {order_id} packed")
    return {"order_id": order_id, "status": "packed"}
