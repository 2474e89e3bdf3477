"""The nightly report, run by an EventBridge schedule."""

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    day = event["time"][:10]
    print(f"Nightly report for {day}")
    s3.put_object(Bucket="shop", Key=f"reports/{day}.txt", Body=f"Orders {day}")
    return {"report": day}
