def handler(event, context):
    quantity = event["quantity"]
    print(f"Order {event['order_id']}: reserving {quantity}")
    return {"reserved": quantity}
