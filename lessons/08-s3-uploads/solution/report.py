"""Summarise each CSV file uploaded to the inbox bucket."""

from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        # S3 sends the key form-encoded: a space arrives as +.
        key = unquote_plus(record["s3"]["object"]["key"])
        print(f"New upload: {key}")
        name = key.rsplit("/", 1)[-1]
        s3.put_object(
            Bucket=bucket,
            Key=f"summaries/{name}.txt",
            Body=f"Summary of {key}",
        )
    return {"summarised": len(event["Records"])}
