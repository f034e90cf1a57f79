# podnet: the two commands of the README, and their parts.
#   make lab    build a 2-zone lab of SSH test hosts, apply podnet over SSH, verify
#   make test   lint, planner tests, ansible-test on the collection, every molecule scenario
SHELL := /bin/bash
VENV := .venv/bin
# Longest first: scripts/molecule-scenarios.sh runs MOLECULE_JOBS (2) of them at a time.
SCENARIOS ?= etcd multizone dualstack encrypted host-gw runtimes agent bgp
LAB_ENV := ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_INVENTORY_UNPARSED_WARNING=False

.PHONY: setup lab lab-down lab-bench test lint unit collection molecule flannel bench bench-fleet clean-leftovers

setup:
	scripts/setup.sh

# make lab LAB_CROSS_ZONE=wireguard: WireGuard between the zones (docs/wireguard.md).
# make lab LAB_RELEASES="bookworm trixie": zone a on Debian 12, zone b on Debian 13.
# make lab LAB_BGP=1: zone a routed by BGP, the lab router its top-of-rack router running
# BIRD 2 with podnet's generated neighbour blocks; zone b and the pairs across as usual
# (docs/bgp.md). Rebuild the lab (make lab-down) when switching it on or off.
# make lab LAB_AGENT=1: podnet-agent on every node, Prometheus on the lab router scraping
# them with podnet's alert rules; after verify, playbooks/lab/agent-check.yml asks Prometheus,
# deletes a route, measures until the drift is scraped, site.yml restores (docs/agent.md).
# make lab LAB_IPV6=1: dual stack; zone a's nodes on an IPv4+IPv6 underlay, zone b's on an
# IPv6-only one (reached at their IPv6 address); verify probes pods in both families.
LAB_CROSS_ZONE ?= vxlan
LAB_RELEASES ?= bookworm
LAB_BGP ?= 0
LAB_AGENT ?= 0
LAB_IPV6 ?= 0
lab: setup
	$(LAB_ENV) $(VENV)/ansible-playbook playbooks/lab/up.yml -e podnet_lab_cross_zone_backend=$(LAB_CROSS_ZONE) \
	  -e "podnet_lab_releases='$(LAB_RELEASES)'"$(if $(filter 1,$(LAB_BGP)), -e podnet_lab_bgp=true)$(if $(filter 1,$(LAB_AGENT)), -e podnet_lab_agent=true)$(if $(filter 1,$(LAB_IPV6)), -e podnet_lab_ipv6=true)
	$(VENV)/ansible-playbook -i inventories/lab playbooks/lab/prepare.yml
	$(VENV)/ansible-playbook -i inventories/lab playbooks/site.yml
	$(if $(filter 1,$(LAB_BGP)),$(VENV)/ansible-playbook -i inventories/lab playbooks/lab/bgp-router-config.yml)
	$(VENV)/ansible-playbook -i inventories/lab playbooks/verify.yml
	$(if $(filter 1,$(LAB_AGENT)),$(VENV)/ansible-playbook -i inventories/lab playbooks/lab/agent-check.yml)
	$(if $(filter 1,$(LAB_AGENT)),$(VENV)/ansible-playbook -i inventories/lab playbooks/site.yml)
	$(if $(filter 1,$(LAB_AGENT)),$(VENV)/ansible-playbook -i inventories/lab playbooks/lab/agent-check.yml \
	  -e lab_agent_check_inject=false)

lab-down: setup
	$(LAB_ENV) $(VENV)/ansible-playbook playbooks/lab/down.yml

test: setup lint unit collection molecule

lint:
	$(VENV)/yamllint --strict .
	$(VENV)/ansible-lint

unit:
	$(VENV)/pytest -q tests/

# podnet.network as Ansible users check a collection: ansible-test sanity and units on the
# built collection (scripts/ansible-test.sh).
collection:
	scripts/ansible-test.sh sanity units

molecule: clean-leftovers
	scripts/molecule-scenarios.sh $(SCENARIOS)

# Docker state outlives a session (docs/testing.md): remove podnet test containers and
# networks an interrupted run left behind, or new networks fail with "Pool overlaps".
clean-leftovers:
	scripts/clean-leftovers.sh

bench:
	$(VENV)/python benchmarks/plan_bench.py

# RTT and TCP throughput: underlay vs host-gw vs VXLAN (vs WireGuard with
# `make lab LAB_CROSS_ZONE=wireguard`, vs BGP with `make lab LAB_BGP=1`); needs the lab; bounded.
lab-bench:
	$(VENV)/python benchmarks/overlay_bench.py

# A stock flanneld on podnet's etcd registry (molecule/flannel). No flanneld binary is
# obtainable here, so it runs only with one: make flannel PODNET_FLANNELD=/path/to/flanneld
flannel: setup
	@if [ -z "$(PODNET_FLANNELD)" ]; then \
	  echo "SKIP flannel scenario: set PODNET_FLANNELD=/path/to/flanneld (a stock flanneld binary)"; \
	else \
	  source $(VENV)/activate && PODNET_FLANNELD="$(abspath $(PODNET_FLANNELD))" molecule test -s flannel; \
	fi

# Fleet benchmark (bounded; builds and removes its own lab): cold, no-op, add one node and
# the floor play on N nodes in 2 zones (and the no-op run under mitogen, measured only;
# N=16,48 measures both sizes and compares their cost per node),
# plus the controller's share for 1,000 and 5,000 nodes (--deliver: plan, the fleet table and
# every node's podnet_node payload, one node at a time, with the process's peak RSS and CPU).
N ?= 16
bench-fleet: setup
	@for attempt in 1 2 3; do $(VENV)/pip install -q -r requirements-bench.txt && break; \
	  echo "bench-fleet: PyPI did not answer (attempt $$attempt of 3); retrying in 10 s"; sleep 10; done
	$(VENV)/python benchmarks/fleet_bench.py --nodes $(N) --mitogen
	$(VENV)/python benchmarks/fleet_bench.py --render-only 1000,5000
	/usr/bin/time -v $(VENV)/python benchmarks/fleet_bench.py --deliver 1000,5000

# Controller benchmark (bounded; changes nothing): the real site.yml --check on N hosts that
# are all this machine (local connection; N may list sizes: N=100,1000), next to the floor
# on the same hosts; a guard fails it when the machine's links, routes, nft or sysctls
# changed. MITOGEN=1 also measures mitogen_linear (installed from requirements-bench.txt).
.PHONY: bench-controller
bench-controller: setup
	@if [ -n "$(MITOGEN)" ]; then for attempt in 1 2 3; do $(VENV)/pip install -q -r requirements-bench.txt && break; \
	  echo "bench-controller: PyPI did not answer (attempt $$attempt of 3); retrying in 10 s"; sleep 10; done; fi
	$(VENV)/python benchmarks/controller_bench.py --nodes $(N) $(if $(MITOGEN),--mitogen)
