def handler(event, context):
    ctx = event["requestContext"]
    print(
        f"ALERT {ctx['condition']} after "
        f"{ctx['approximateInvokeCount']} attempt(s): "
        f"{event['requestPayload']}"
    )
