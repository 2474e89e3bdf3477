def handler(event, context):
    print(f"Booking a courier for order {event['order_id']}")
    raise ConnectionError("carrier API unreachable")
