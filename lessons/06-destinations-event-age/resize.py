def handler(event, context):
    key = event["key"]
    if not key.endswith(".jpg"):
        raise ValueError(f"cannot resize {key}")
    print(f"Resized {key} to thumbs/{key}")
    return {"thumbnail": f"thumbs/{key}"}
