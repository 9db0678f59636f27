"""Calls the services with a grpcio client generated from proto/ (run by interop-check.sh).

Argument: the `{"ready": {service: endpoint}, ...}` line printed by `devstack --json up`.
Checks that reflection lists every service and that the generated stubs create a customer
and a contract and read the contract back. Exits non-zero with a message on any failure.
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


def listed_services(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    for response in stub.ServerReflectionInfo(iter([request]), timeout=10):
        return {s.name for s in response.list_services_response.service}
    return set()


def main():
    endpoints = json.loads(sys.argv[1])["ready"]
    for name, service in EXPECTED.items():
        target = endpoints[name].removeprefix("http://")
        with grpc.insecure_channel(target) as channel:
            services = listed_services(channel)
            if services != {service, "grpc.health.v1.Health"}:
                sys.exit(f"{name}: reflection lists {sorted(services)}, expected {service} and grpc.health.v1.Health")
            print(f"reflection on {name} ({target}): {sorted(services)}")

    with grpc.insecure_channel(endpoints["contracts"].removeprefix("http://")) as channel:
        stub = contracts_pb2_grpc.ContractsServiceStub(channel)
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
        print(f"Python client created contract {read.contract_no} with receivable {read.receivables[0].receivable_id}")


if __name__ == "__main__":
    main()
