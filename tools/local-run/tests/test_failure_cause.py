"""How the local run reports a failure's cause: the message, without the Java stack."""

import runner


def test_a_failure_cause_keeps_the_message_and_drops_the_java_stack():
    error = RuntimeError(
        "An error occurred while calling o592.parquet.\n"
        ": java.lang.RuntimeException: file:/x/LOAD2.parquet is not a Parquet file\n"
        "\tat org.apache.parquet.hadoop.ParquetFileReader.readFooter(ParquetFileReader.java:548)\n"
        "\tat org.apache.parquet.hadoop.ParquetFileReader.<init>(ParquetFileReader.java:799)\n"
        "needs at least one footer\n"
        "a fourth line, left out\n"
    )
    assert runner.cause_of(error) == (
        "RuntimeError: An error occurred while calling o592.parquet.\n"
        "    : java.lang.RuntimeException: file:/x/LOAD2.parquet is not a Parquet file\n"
        "    needs at least one footer"
    )
