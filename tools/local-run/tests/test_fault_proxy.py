"""The fault proxy (tools/local-run/fault_proxy.py) against a real moto_server: what it injects,
and that a caller that retries as the AWS SDK and the pull functions do gets everything through."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from fault_proxy import FaultProxy
from moto_threaded import threaded_moto


@pytest.fixture()
def moto_endpoint():
    with threaded_moto() as endpoint:
        yield endpoint


def client(service: str, endpoint: str, attempts: int):
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}, s3={"addressing_style": "path"}))


def test_each_object_s_first_put_is_refused_then_its_retry_lands(moto_endpoint):
    proxy = FaultProxy(moto_endpoint, s3_errors=3).start()
    try:
        direct = client("s3", moto_endpoint, 1)
        direct.create_bucket(Bucket="fault-proxy-test", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        once = client("s3", proxy.endpoint, 1)
        with pytest.raises(ClientError) as refused:
            once.put_object(Bucket="fault-proxy-test", Key="k1", Body=b"1")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
        retrying = client("s3", proxy.endpoint, 3)
        for key in ("k1", "k2", "k3", "k4"):
            retrying.put_object(Bucket="fault-proxy-test", Key=key, Body=key.encode())
        assert sorted(o["Key"] for o in direct.list_objects_v2(Bucket="fault-proxy-test")["Contents"]) == ["k1", "k2", "k3", "k4"]
        # three errors, alternating, then none (k4 went straight through)
        assert proxy.injected.s3_put_errors == {500: 2, 503: 1} or proxy.injected.s3_put_errors == {500: 1, 503: 2}
        # reads pass through untouched, HEAD with the object's length
        assert retrying.head_object(Bucket="fault-proxy-test", Key="k2")["ContentLength"] == 2
    finally:
        proxy.stop()


def test_kinesis_refuses_every_third_record_once_and_throttles_every_fourth_call(moto_endpoint):
    proxy = FaultProxy(moto_endpoint, s3_errors=0, throttle_every=4, refuse_every=3).start()
    try:
        direct = client("kinesis", moto_endpoint, 1)
        direct.create_stream(StreamName="s", ShardCount=1)
        kinesis = client("kinesis", proxy.endpoint, 1)
        records = [{"Data": f"r{i}".encode(), "PartitionKey": str(i)} for i in range(9)]
        answer = kinesis.put_records(StreamName="s", Records=records)
        assert answer["FailedRecordCount"] == 3
        assert [i for i, r in enumerate(answer["Records"]) if "ErrorCode" in r] == [2, 5, 8]
        assert {r.get("ErrorCode") for r in answer["Records"] if "ErrorCode" in r} == {"ProvisionedThroughputExceededException"}
        # The refused ones sent again go through: each record is refused once.
        again = kinesis.put_records(StreamName="s", Records=[records[i] for i in (2, 5, 8)])
        assert again["FailedRecordCount"] == 0
        kinesis.put_records(StreamName="s", Records=records[:1])  # the third call
        with pytest.raises(ClientError) as throttled:  # the fourth: refused whole
            kinesis.put_records(StreamName="s", Records=records[:1])
        assert throttled.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
        shard = direct.list_shards(StreamName="s")["Shards"][0]["ShardId"]
        iterator = direct.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        landed = [r["Data"].decode() for r in direct.get_records(ShardIterator=iterator)["Records"]]
        # every record once, and r0 a second time from the third call: nothing lost, nothing doubled by the proxy
        assert sorted(landed) == sorted([f"r{i}" for i in range(9)] + ["r0"])
        assert proxy.injected.as_json()["kinesis records refused inside a call"] == 3
        assert proxy.injected.as_json()["kinesis PutRecords calls throttled whole"] == 1
    finally:
        proxy.stop()
