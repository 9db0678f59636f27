"""Calls the services with a grpcio client generated from proto/ (run by interop-check.sh).

Arguments: the `{"ready": {service: endpoint}, ...}` line printed by `devstack --json up`,
the stack's CA certificate (PEM file) and a bearer token (`collectctl auth token`).
Checks over TLS that a call without the token is refused as UNAUTHENTICATED, that reflection
lists every service, and that the generated stubs create a customer and a contract and read
the contract back. Exits non-zero with a message on any failure.
"""

import json
import sys
import uuid

import grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from receivables.contracts.v1 import contracts_pb2, contracts_pb2_grpc

EXPECTED = {
    "contracts": "receivables.contracts.v1.ContractsService",
    "payments": "receivables.payments.v1.PaymentsService",
    "scoring": "receivables.scoring.v1.ScoringService",
    "dunning": "receivables.dunning.v1.DunningService",
    "legal": "receivables.legal.v1.LegalService",
}
ALWAYS = {
    "grpc.health.v1.Health",
    "receivables.audit.v1.AuditService",
    "receivables.deadletters.v1.DeadLetterService",
}


def channel(endpoint, ca, token=None):
    """A TLS channel to `https://127.0.0.1:port` (the certificate names localhost), with the
    token sent on every call when given."""
    target = endpoint.removeprefix("https://")
    credentials = grpc.ssl_channel_credentials(root_certificates=ca)
    if token is not None:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token)
        )
    return grpc.secure_channel(target, credentials, options=[("grpc.ssl_target_name_override", "localhost")])


def listed_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    for response in stub.ServerReflectionInfo(iter([request]), timeout=10):
        return {s.name for s in response.list_services_response.service}
    return set()


def main():
    endpoints = json.loads(sys.argv[1])["ready"]
    with open(sys.argv[2], "rb") as f:
        ca = f.read()
    token = sys.argv[3]

    with channel(endpoints["contracts"], ca) as anonymous:
        try:
            contracts_pb2_grpc.ContractsServiceStub(anonymous).GetContract(
                contracts_pb2.GetContractRequest(contract_no="PY-NONE"), timeout=10
            )
            sys.exit("a call without a token was accepted")
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAUTHENTICATED:
                sys.exit(f"expected UNAUTHENTICATED without a token, got {error.code()}: {error.details()}")
            print(f"call without a token refused as expected: {error.details()}")

    for name, service in EXPECTED.items():
        with channel(endpoints[name], ca, token) as ch:
            services = listed_services(ch)
            if services != {service} | ALWAYS:
                sys.exit(f"{name}: reflection lists {sorted(services)}, expected {service} and {sorted(ALWAYS)}")
            print(f"reflection on {name} ({endpoints[name]}): {sorted(services)}")

    with channel(endpoints["contracts"], ca, token) as ch:
        stub = contracts_pb2_grpc.ContractsServiceStub(ch)
        run = uuid.uuid4().hex[:8]
        customer = stub.CreateCustomer(
            contracts_pb2.CreateCustomerRequest(
                idempotency_key=f"py-{run}",
                name="Python 客户",
                kind=contracts_pb2.CUSTOMER_KIND_COMPANY,
                payer_accounts=["6222 0200 1111 2222"],
            ),
            timeout=10,
        ).customer
        contract = stub.CreateContract(
            contracts_pb2.CreateContractRequest(
                idempotency_key=f"py-contract-{run}",
                customer_id=customer.customer_id,
                contract_no=f"PY-{run}",
                currency="CNY",
                installments=[contracts_pb2.Installment(amount="1234.56", due_date="2026-06-30")],
                escrow_account="6216 6100 0000 0088 88",
            ),
            timeout=10,
        ).contract
        read = stub.GetContract(contracts_pb2.GetContractRequest(contract_no=f"PY-{run}"), timeout=10).contract
        if customer.payer_accounts_masked != ["***************2222"]:
            sys.exit(f"CreateCustomer returned payer accounts {list(customer.payer_accounts_masked)}")
        if read.contract_id != contract.contract_id or read.receivables[0].open_amount.amount != "1234.56":
            sys.exit(f"GetContract returned {read}")
        try:
            stub.CreateContract(contracts_pb2.CreateContractRequest(idempotency_key="x"), timeout=10)
            sys.exit("an empty contract was accepted")
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                sys.exit(f"expected INVALID_ARGUMENT, got {error.code()}: {error.details()}")
            print(f"invalid request refused as expected: {error.details()}")
        if read.owner != "py-client" or read.owner_team != "east":
            sys.exit(f"the contract's owner is {read.owner!r}/{read.owner_team!r}, expected the caller py-client/east")
        print(f"Python client (collector py-client) created contract {read.contract_no} with receivable {read.receivables[0].receivable_id}, owned by {read.owner}")


if __name__ == "__main__":
    main()
