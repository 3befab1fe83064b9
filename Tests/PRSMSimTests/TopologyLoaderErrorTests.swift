import Foundation
@testable import PRSMSim
import Testing

/// TopologyLoader refuses what it does not understand and names the JSON path of the problem.
@Suite("TopologyLoader errors name the JSON path")
struct TopologyLoaderErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let what: String
        let json: String
        let path: String
        let message: String
        var testDescription: String { what }
    }

    /// Wraps node and fault lists in an otherwise valid topology.
    static func topology(nodes: String = #"[{"name": "a"}, {"name": "b"}]"#, faults: String = "[]",
                         extra: String = "") -> String {
        #"{"name": "t", "nodes": \#(nodes), "faults": \#(faults), "duration_ms": 60000\#(extra)}"#
    }

    static let cases: [Case] = [
        Case(what: "unknown key in a node", json: topology(nodes: #"[{"name": "a"}, {"name": "b", "rols": ["validator"]}]"#),
             path: "$.nodes[1].rols", message: "unknown key"),
        Case(what: "unknown top-level key", json: topology(extra: #", "durration_ms": 5"#),
             path: "$.durration_ms", message: "unknown key"),
        Case(what: "unknown key in the latency model",
             json: topology(extra: #", "link": {"latency": {"dist": "fixed", "ms": 5, "mss": 3}}"#),
             path: "$.link.latency.mss", message: "unknown key"),
        Case(what: "bad role", json: topology(nodes: #"[{"name": "a", "roles": ["validator", "miner"]}]"#),
             path: "$.nodes[0].roles[1]", message: "unknown role"),
        Case(what: "unknown behaviour", json: topology(nodes: #"[{"name": "a"}, {"name": "b", "behaviour": "evil"}]"#),
             path: "$.nodes[1].behaviour", message: "unknown behaviour 'evil' (silent, skip-replay-check, unbounded-tables"),
        Case(what: "unknown fault type", json: topology(faults: #"[{"at_ms": 1000, "type": "meteor"}]"#),
             path: "$.faults[0].type", message: "unknown fault 'meteor'"),
        Case(what: "crash of an unknown node", json: topology(faults: #"[{"at_ms": 1000, "type": "crash", "node": "z"}]"#),
             path: "$.faults[0].node", message: "no node named 'z'"),
        Case(what: "partition group naming an unknown node",
             json: topology(faults: #"[{"at_ms": 1000, "type": "partition", "groups": [["a"], ["b", "zz"]]}]"#),
             path: "$.faults[0].groups[1][1]", message: "no node named 'zz'"),
        Case(what: "one-way partition naming an unknown node",
             json: topology(faults: #"[{"at_ms": 1000, "type": "partition", "from": ["a"], "to": ["q"]}]"#),
             path: "$.faults[0].to[0]", message: "no node named 'q'"),
        Case(what: "faults out of time order",
             json: topology(faults: #"[{"at_ms": 2000, "type": "heal"}, {"at_ms": 1000, "type": "heal"}]"#),
             path: "$.faults", message: "time order"),
        Case(what: "unknown latency distribution",
             json: topology(extra: #", "link": {"latency": {"dist": "gaussian", "ms": 5}}"#),
             path: "$.link.latency.dist", message: "unknown distribution (fixed, uniform, long-tail)"),
        Case(what: "uniform latency with min above max",
             json: topology(extra: #", "link": {"latency": {"dist": "uniform", "min_ms": 50, "max_ms": 10}}"#),
             path: "$.link.latency.max_ms", message: "must be ≥ min_ms"),
        Case(what: "latency without its parameter",
             json: topology(extra: #", "link": {"latency": {"dist": "fixed"}}"#),
             path: "$.link.latency.ms", message: "required"),
        Case(what: "fractional integer", json: #"{"name": "t", "nodes": [{"name": "a"}], "duration_ms": 60000.5}"#,
             path: "$.duration_ms", message: "expected an integer"),
        Case(what: "integer written as a string", json: topology(nodes: #"[{"name": "a", "stake": "100"}]"#),
             path: "$.nodes[0].stake", message: "expected an integer"),
        Case(what: "negative integer", json: topology(extra: #", "gst_ms": -1"#),
             path: "$.gst_ms", message: "expected an integer"),
        Case(what: "probability above one million", json: topology(extra: #", "link": {"loss_per_million": 1000001}"#),
             path: "$.link.loss_per_million", message: "expected an integer between 0 and 1000000"),
        Case(what: "duplicate node names", json: topology(nodes: #"[{"name": "a"}, {"name": "b"}, {"name": "a"}]"#),
             path: "$.nodes", message: "node name 'a' is used twice"),
        Case(what: "duplicate names from a count expansion",
             json: topology(nodes: #"[{"name": "c", "count": 2}, {"name": "c2"}]"#),
             path: "$.nodes", message: "node name 'c2' is used twice"),
        Case(what: "duration too short for the liveness check",
             json: #"{"name": "t", "nodes": [{"name": "a"}], "duration_ms": 25000, "faults": [{"at_ms": 20000, "type": "heal"}]}"#,
             path: "$.duration_ms", message: "must exceed the last fault/GST + ping_bound_ms + 1000 (26000)"),
        Case(what: "duration too short after GST", json: #"{"name": "t", "nodes": [{"name": "a"}], "gst_ms": 60000}"#,
             path: "$.duration_ms", message: "(66000)"),
        Case(what: "invalid JSON", json: #"{"name": "t", "nodes": [{"name": "a"}"#,
             path: "$", message: "not valid JSON"),
        Case(what: "a list where an object belongs", json: "[]", path: "$", message: "expected an object"),
        Case(what: "missing name", json: #"{"nodes": [{"name": "a"}]}"#, path: "$.name", message: "required"),
        Case(what: "no nodes", json: #"{"name": "t", "nodes": []}"#, path: "$.nodes", message: "at least one node"),
        Case(what: "node name with a space", json: topology(nodes: #"[{"name": "a b"}]"#),
             path: "$.nodes[0].name", message: "letters, digits"),
        Case(what: "count of zero", json: topology(nodes: #"[{"name": "a", "count": 0}]"#),
             path: "$.nodes[0].count", message: "must be ≥ 1"),
        Case(what: "fault without at_ms", json: topology(faults: #"[{"type": "heal"}]"#),
             path: "$.faults[0].at_ms", message: "required"),
        Case(what: "timed fault ending before it starts",
             json: topology(faults: #"[{"at_ms": 5000, "type": "drop", "per_million": 10, "until_ms": 5000}]"#),
             path: "$.faults[0].until_ms", message: "must be after at_ms"),
        Case(what: "clock skew beyond an hour",
             json: topology(faults: #"[{"at_ms": 1000, "type": "clock-skew", "node": "a", "skew_ms": -3600001}]"#),
             path: "$.faults[0].skew_ms", message: "within ±3600000"),
        // Int64.min: `abs` of it traps, which crashed the loader before it used `magnitude`.
        Case(what: "clock skew of Int64.min",
             json: topology(faults: #"[{"at_ms": 1000, "type": "clock-skew", "node": "a", "skew_ms": -9223372036854775808}]"#),
             path: "$.faults[0].skew_ms", message: "within ±3600000"),
        Case(what: "dht workload naming an unknown bootstrap node",
             json: topology(extra: #", "workload": {"dht": {"bootstrap": ["zz"]}}"#),
             path: "$.workload.dht.bootstrap[0]", message: "no node named 'zz'"),
        Case(what: "dht k of zero", json: topology(extra: #", "workload": {"dht": {"bootstrap": ["a"], "k": 0}}"#),
             path: "$.workload.dht.k", message: "must be at least 1"),
        Case(what: "more validators than one set holds",
             json: topology(nodes: #"[{"name": "v", "count": 1025, "roles": ["validator"]}]"#),
             path: "$.nodes", message: "1025 nodes have the validator role; one validator set holds at most 1024"),
        Case(what: "reconfiguration naming an unknown node",
             json: topology(extra: #", "workload": {"consensus": {"reconfigure": [{"at_ms": 5000, "validators": ["a", "q"]}]}}"#),
             path: "$.workload.consensus.reconfigure[0].validators", message: "no node is named 'q'"),
        Case(what: "reconfigurations out of time order",
             json: topology(extra: #", "workload": {"consensus": {"reconfigure": [{"at_ms": 5000, "validators": ["a"]}, {"at_ms": 4000, "validators": ["b"]}]}}"#),
             path: "$.workload.consensus.reconfigure", message: "time order"),
        Case(what: "unknown dht workload key",
             json: topology(extra: #", "workload": {"dht": {"bootstrap": ["a"], "replicas": 3}}"#),
             path: "$.workload.dht.replicas", message: "unknown key"),
    ]

    @Test("refused with the path of the problem", arguments: cases)
    func refused(_ example: Case) throws {
        let error = #expect(throws: TopologyError.self) { try TopologyLoader.parse(Data(example.json.utf8)) }
        #expect(error?.path == example.path, "\(String(describing: error))")
        #expect(error?.message.contains(example.message) == true, "\(String(describing: error))")
        #expect(error?.description.hasPrefix(example.path + ": ") == true)
    }

    @Test("a topology of more nodes than one validator set holds, none of them validators, still has a genesis")
    func largeDHTOnlyTopologyHasAGenesis() throws {
        let topology = try TopologyLoader.parse(Data(Self.topology(nodes: #"[{"name": "n", "count": 1100}]"#).utf8))
        #expect(topology.genesis().validators.count == 1_024)
    }

    @Test("a file that does not exist is refused")
    func missingFile() {
        let error = #expect(throws: TopologyError.self) { try TopologyLoader.load(path: "/nonexistent/topology.json") }
        #expect(error?.message.contains("cannot read /nonexistent/topology.json") == true)
    }
}
