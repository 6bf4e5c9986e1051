"""Taking a snapshot of the provisioned resources and putting one back.

Tables and objects go straight from and to moto's backends, in bulk (`local.state.backends`): a world of
thousands of items and objects is seconds, not one request per object. Queues and secrets go through the
AWS APIs moto serves (a few calls); Cognito users through moto's backend too (`local.state.cognito`).

Restoring happens while the cloud starts, before any event source is wired: tables are filled before
their streams are switched on and buckets before their notifications are configured, so nothing
restored is delivered again as a new event (no second fan-out, notification or resize).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from moto.core.exceptions import HTTPException

from local.state.backends import ItemsDoNotFit, export_objects, export_table, import_objects, import_table
from local.state.cognito import export_user_pool, import_user_pool
from local.state.snapshot import Snapshot, SnapshotUnreadable, StoredMessage
from local.template import CloudAssembly, Resource

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")


def resource_key(resource: Resource) -> str:
    return f"{resource.stack.name}/{resource.logical_id}"


@dataclass
class RestoreReport:
    users: int = 0
    items: int = 0
    objects: int = 0
    messages: int = 0
    ignored: list[str] = field(default_factory=list)  # snapshot keys the template no longer has
    seconds: float = 0.0

    def summary(self) -> str:
        text = f"{self.users} users, {self.items} items, {self.objects} objects"
        if self.messages:
            text += f", {self.messages} queued messages"
        if self.ignored:
            text += f" (ignored, no longer in the template: {', '.join(sorted(self.ignored))})"
        return text


def capture(assembly: CloudAssembly, session: Any, moto_url: str) -> Snapshot:
    """Everything a tester created in the template's stateful resources."""
    snapshot = Snapshot()
    for resource in assembly.resources():
        if resource.type in TABLE_TYPES:
            snapshot.tables[resource_key(resource)] = export_table(assembly.physical_of(resource).ref)
    for resource in assembly.resources("AWS::S3::Bucket"):
        snapshot.buckets[resource_key(resource)] = export_objects(assembly.physical_of(resource).ref, snapshot)
    for resource in assembly.resources("AWS::Cognito::UserPool"):
        snapshot.user_pools[resource_key(resource)] = export_user_pool(assembly.physical_of(resource).ref)
    sqs = session.client("sqs", endpoint_url=moto_url)
    # Source queues before their dead-letter queues: receiving may move a message into its DLQ.
    queues = sorted(assembly.resources("AWS::SQS::Queue"), key=lambda r: "RedrivePolicy" not in r.properties)
    for resource in queues:
        snapshot.queues[resource_key(resource)] = drain_queue(sqs, assembly.physical_of(resource).ref)
    secrets = session.client("secretsmanager", endpoint_url=moto_url)
    for resource in assembly.resources("AWS::SecretsManager::Secret"):
        value = secrets.get_secret_value(SecretId=assembly.physical_of(resource).ref)
        snapshot.secrets[resource_key(resource)] = str(value["SecretString"])
    return snapshot


def drain_queue(sqs: Any, queue_url: str) -> list[StoredMessage]:
    """The messages waiting in the queue, in order; each is deleted once read, since a FIFO queue hands
    out the next message of a group only then (the process stops right after: nothing else reads them).
    One a consumer holds (received, not yet deleted, e.g. while it waits for a retry) is invisible to
    any receiver, so it is not kept."""
    messages: list[StoredMessage] = []
    while True:
        received = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=900,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not received:
            return messages
        for message in received:
            attributes = {
                name: {"DataType": attribute["DataType"], "StringValue": attribute["StringValue"]}
                for name, attribute in message.get("MessageAttributes", {}).items()
                if "StringValue" in attribute  # binary attributes are not kept
            }
            system = message.get("Attributes", {})
            messages.append(
                StoredMessage(
                    body=message["Body"],
                    attributes=attributes,
                    group_id=system.get("MessageGroupId"),
                    deduplication_id=system.get("MessageDeduplicationId"),
                )
            )
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(received)],
        )


def send_back(sqs: Any, queue_url: str, message: StoredMessage) -> None:
    fifo = {"MessageGroupId": message.group_id} if message.group_id else {}
    if message.deduplication_id:
        fifo["MessageDeduplicationId"] = message.deduplication_id
    sqs.send_message(QueueUrl=queue_url, MessageBody=message.body, MessageAttributes=message.attributes, **fifo)


class Restorer:
    """Puts a snapshot back into freshly provisioned resources; the provisioner's hooks for tables
    and secrets, and `restore_after_provisioning` for the rest."""

    def __init__(self, snapshot: Snapshot, session: Any, moto_url: str) -> None:
        self.snapshot = snapshot
        self.session = session
        self.moto_url = moto_url
        self.report = RestoreReport()
        self._started = time.perf_counter()

    def secret_value(self, resource: Resource) -> str | None:
        return self.snapshot.secrets.get(resource_key(resource))

    def fill_table(self, resource: Resource, table_name: str) -> None:
        """Called by the provisioner between creating the table and switching its stream on."""
        items = self.snapshot.tables.get(resource_key(resource), [])
        try:
            import_table(table_name, items)
        except ItemsDoNotFit as error:
            # e.g. the template changed the table's key: refusing beats dropping the items silently
            raise SnapshotUnreadable(f"the items saved for {resource_key(resource)} do not fit it ({error})") from error
        self.report.items += len(items)

    def restore_after_provisioning(self, assembly: CloudAssembly) -> RestoreReport:
        try:
            self._restore_objects_users_and_messages(assembly)
        except (ClientError, BotoCoreError, HTTPException) as error:
            raise SnapshotUnreadable(f"it does not fit the template's resources ({error})") from error
        self.report.ignored = self._keys_not_in(assembly)
        self.report.seconds = time.perf_counter() - self._started
        return self.report

    def _restore_objects_users_and_messages(self, assembly: CloudAssembly) -> None:
        sqs = self.session.client("sqs", endpoint_url=self.moto_url)
        for resource in assembly.resources("AWS::S3::Bucket"):
            stored = self.snapshot.buckets.get(resource_key(resource), [])
            import_objects(assembly.physical_of(resource).ref, stored, self.snapshot.blobs)
            self.report.objects += len(stored)
        for resource in assembly.resources("AWS::Cognito::UserPool"):
            pool = self.snapshot.user_pools.get(resource_key(resource))
            if pool is not None:
                self.report.users += import_user_pool(assembly.physical_of(resource).ref, pool)
        for resource in assembly.resources("AWS::SQS::Queue"):
            queue_url = assembly.physical_of(resource).ref
            for message in self.snapshot.queues.get(resource_key(resource), []):
                send_back(sqs, queue_url, message)
                self.report.messages += 1

    def _keys_not_in(self, assembly: CloudAssembly) -> list[str]:
        known = {resource_key(resource) for resource in assembly.resources()}
        kept = [
            key
            for group in (self.snapshot.tables, self.snapshot.buckets, self.snapshot.user_pools, self.snapshot.queues)
            for key, content in group.items()
            if content
        ]
        return [key for key in kept if key not in known]
