import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    logger.info("order %s for %s", event["order_id"], event["customer"])
    total = event.get("qty", 1) * event["price"]
    return {"order_id": event["order_id"], "total": total}
