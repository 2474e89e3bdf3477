def handler(event, context):
    quantity = event.get("quantity", event.get("qty"))
    print(f"Order {event['order_id']}: reserving {quantity}")
    return {"reserved": quantity}
