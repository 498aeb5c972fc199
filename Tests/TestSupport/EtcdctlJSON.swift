import Foundation

/// The shapes `etcdctl -w json` (3.4) prints. etcdctl marshals the protobuf responses with Go's
/// encoding/json, so zero values are omitted (decoded here as 0, false, [] or ""), byte strings
/// are base64 (decoded here to UTF-8), and a few commands print Go structs instead of protobufs:
/// watch (`Header`, `Events`, `CompactRevision`…), the lease commands (the header's fields
/// flattened beside `ID`/`TTL`), the endpoint commands (an array with `Endpoint` per entry).
public enum EtcdctlJSON {
    public struct Header: Decodable, Sendable {
        public let clusterID: UInt64
        public let memberID: UInt64
        public let revision: Int64
        public let raftTerm: UInt64

        enum CodingKeys: String, CodingKey {
            case clusterID = "cluster_id", memberID = "member_id", revision, raftTerm = "raft_term"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            clusterID = try container.decodeIfPresent(UInt64.self, forKey: .clusterID) ?? 0
            memberID = try container.decodeIfPresent(UInt64.self, forKey: .memberID) ?? 0
            revision = try container.decodeIfPresent(Int64.self, forKey: .revision) ?? 0
            raftTerm = try container.decodeIfPresent(UInt64.self, forKey: .raftTerm) ?? 0
        }
    }

    public struct KeyValue: Decodable, Equatable, Sendable, CustomStringConvertible {
        public let key: String
        public let value: String
        public let createRevision: Int64
        public let modRevision: Int64
        public let version: Int64
        public let lease: Int64

        public init(key: String, value: String = "", createRevision: Int64, modRevision: Int64, version: Int64, lease: Int64 = 0) {
            self.key = key
            self.value = value
            self.createRevision = createRevision
            self.modRevision = modRevision
            self.version = version
            self.lease = lease
        }

        enum CodingKeys: String, CodingKey {
            case key, value, createRevision = "create_revision", modRevision = "mod_revision", version, lease
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            key = try container.decodeBase64IfPresent(forKey: .key)
            value = try container.decodeBase64IfPresent(forKey: .value)
            createRevision = try container.decodeIfPresent(Int64.self, forKey: .createRevision) ?? 0
            modRevision = try container.decodeIfPresent(Int64.self, forKey: .modRevision) ?? 0
            version = try container.decodeIfPresent(Int64.self, forKey: .version) ?? 0
            lease = try container.decodeIfPresent(Int64.self, forKey: .lease) ?? 0
        }

        public var description: String {
            "\(key)=\(value) (create \(createRevision), mod \(modRevision), version \(version)\(lease == 0 ? "" : ", lease \(lease)"))"
        }
    }

    public struct Range: Decodable, Sendable {
        public let header: Header
        public let kvs: [KeyValue]
        public let more: Bool
        public let count: Int64

        enum CodingKeys: String, CodingKey { case header, kvs, more, count }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            header = try container.decode(Header.self, forKey: .header)
            kvs = try container.decodeIfPresent([KeyValue].self, forKey: .kvs) ?? []
            more = try container.decodeIfPresent(Bool.self, forKey: .more) ?? false
            count = try container.decodeIfPresent(Int64.self, forKey: .count) ?? 0
        }
    }

    /// Responses that carry nothing but the header (`lease revoke`, `put` without --prev-kv…).
    public struct HeaderOnly: Decodable, Sendable {
        public let header: Header
    }

    public struct Put: Decodable, Sendable {
        public let header: Header
        public let prevKV: KeyValue?

        enum CodingKeys: String, CodingKey { case header, prevKV = "prev_kv" }
    }

    public struct Delete: Decodable, Sendable {
        public let header: Header
        public let deleted: Int64
        public let prevKVs: [KeyValue]

        enum CodingKeys: String, CodingKey { case header, deleted, prevKVs = "prev_kvs" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            header = try container.decode(Header.self, forKey: .header)
            deleted = try container.decodeIfPresent(Int64.self, forKey: .deleted) ?? 0
            prevKVs = try container.decodeIfPresent([KeyValue].self, forKey: .prevKVs) ?? []
        }
    }

    public struct Txn: Decodable, Sendable {
        public let header: Header
        public let succeeded: Bool
        public let responses: [Operation]

        /// One response inside a txn: `{"Response":{"ResponsePut":{…}}}` (Go's oneof wrapper).
        public enum Operation: Decodable, Sendable {
            case put(Put)
            case range(Range)
            case delete(Delete)

            enum Wrapper: String, CodingKey { case response = "Response" }
            enum Kind: String, CodingKey { case put = "ResponsePut", range = "ResponseRange", delete = "ResponseDeleteRange" }

            public init(from decoder: any Decoder) throws {
                let wrapper = try decoder.container(keyedBy: Wrapper.self)
                let kind = try wrapper.nestedContainer(keyedBy: Kind.self, forKey: .response)
                if let put = try kind.decodeIfPresent(Put.self, forKey: .put) {
                    self = .put(put)
                } else if let range = try kind.decodeIfPresent(Range.self, forKey: .range) {
                    self = .range(range)
                } else {
                    self = .delete(try kind.decode(Delete.self, forKey: .delete))
                }
            }
        }

        enum CodingKeys: String, CodingKey { case header, succeeded, responses }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            header = try container.decode(Header.self, forKey: .header)
            succeeded = try container.decodeIfPresent(Bool.self, forKey: .succeeded) ?? false
            responses = try container.decodeIfPresent([Operation].self, forKey: .responses) ?? []
        }
    }

    /// One line of `etcdctl watch -w json`: clientv3's WatchResponse struct, field names capitalised.
    public struct Watch: Decodable, Sendable {
        public let header: Header
        public let events: [Event]
        public let compactRevision: Int64
        public let canceled: Bool
        public let created: Bool

        public struct Event: Decodable, Sendable {
            public enum Kind: Int, Decodable, Sendable { case put = 0, delete = 1 }
            public let type: Kind
            public let kv: KeyValue
            public let prevKV: KeyValue?

            enum CodingKeys: String, CodingKey { case type, kv, prevKV = "prev_kv" }

            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                type = try container.decodeIfPresent(Kind.self, forKey: .type) ?? .put
                kv = try container.decode(KeyValue.self, forKey: .kv)
                prevKV = try container.decodeIfPresent(KeyValue.self, forKey: .prevKV)
            }
        }

        enum CodingKeys: String, CodingKey {
            case header = "Header", events = "Events", compactRevision = "CompactRevision", canceled = "Canceled", created = "Created"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            header = try container.decode(Header.self, forKey: .header)
            events = try container.decodeIfPresent([Event].self, forKey: .events) ?? []
            compactRevision = try container.decodeIfPresent(Int64.self, forKey: .compactRevision) ?? 0
            canceled = try container.decodeIfPresent(Bool.self, forKey: .canceled) ?? false
            created = try container.decodeIfPresent(Bool.self, forKey: .created) ?? false
        }
    }

    /// `lease grant` and `lease keep-alive --once`: the header's fields flattened beside ID and TTL.
    public struct Lease: Decodable, Sendable {
        public let header: Header
        public let id: Int64
        public let ttl: Int64

        enum CodingKeys: String, CodingKey { case id = "ID", ttl = "TTL" }

        public init(from decoder: any Decoder) throws {
            header = try Header(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(Int64.self, forKey: .id)
            ttl = try container.decodeIfPresent(Int64.self, forKey: .ttl) ?? 0
        }

        /// The form `put --lease` and the other lease commands take.
        public var hexID: String { String(UInt64(bitPattern: id), radix: 16) }
    }

    /// `lease timetolive [--keys]`: flattened header, lower-case `id`/`ttl`, `granted-ttl`, base64 `keys`.
    public struct LeaseTimeToLive: Decodable, Sendable {
        public let header: Header
        public let id: Int64
        public let ttl: Int64
        public let grantedTTL: Int64
        public let keys: [String]

        enum CodingKeys: String, CodingKey { case id, ttl, grantedTTL = "granted-ttl", keys }

        public init(from decoder: any Decoder) throws {
            header = try Header(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(Int64.self, forKey: .id) ?? 0
            ttl = try container.decodeIfPresent(Int64.self, forKey: .ttl) ?? 0
            grantedTTL = try container.decodeIfPresent(Int64.self, forKey: .grantedTTL) ?? 0
            keys = try (container.decodeIfPresent([String].self, forKey: .keys) ?? []).map(decodeBase64)
        }
    }

    /// One entry of `endpoint status -w json`.
    public struct EndpointStatus: Decodable, Sendable {
        public let endpoint: String
        public let status: Status

        public struct Status: Decodable, Sendable {
            public let header: Header
            public let version: String
            public let dbSize: Int64
            public let leader: UInt64
            public let raftIndex: UInt64
            public let raftTerm: UInt64
            public let errors: [String]?

            enum CodingKeys: String, CodingKey { case header, version, dbSize, leader, raftIndex, raftTerm, errors }

            /// Go leaves out zero numbers: a member that knows no leader has no `leader` field.
            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                header = try container.decode(Header.self, forKey: .header)
                version = try container.decodeIfPresent(String.self, forKey: .version) ?? ""
                dbSize = try container.decodeIfPresent(Int64.self, forKey: .dbSize) ?? 0
                leader = try container.decodeIfPresent(UInt64.self, forKey: .leader) ?? 0
                raftIndex = try container.decodeIfPresent(UInt64.self, forKey: .raftIndex) ?? 0
                raftTerm = try container.decodeIfPresent(UInt64.self, forKey: .raftTerm) ?? 0
                errors = try container.decodeIfPresent([String].self, forKey: .errors)
            }
        }

        enum CodingKeys: String, CodingKey { case endpoint = "Endpoint", status = "Status" }
    }

    /// One entry of `endpoint health -w json`.
    public struct EndpointHealth: Decodable, Sendable {
        public let endpoint: String
        public let health: Bool
        public let error: String?
    }

    /// One entry of `endpoint hashkv -w json`.
    public struct EndpointHashKV: Decodable, Sendable {
        public let endpoint: String
        public let hashKV: HashKV

        public struct HashKV: Decodable, Sendable {
            public let header: Header
            public let hash: UInt32
            public let compactRevision: Int64

            enum CodingKeys: String, CodingKey { case header, hash, compactRevision = "compact_revision" }

            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                header = try container.decode(Header.self, forKey: .header)
                hash = try container.decodeIfPresent(UInt32.self, forKey: .hash) ?? 0
                compactRevision = try container.decodeIfPresent(Int64.self, forKey: .compactRevision) ?? 0
            }
        }

        enum CodingKeys: String, CodingKey { case endpoint = "Endpoint", hashKV = "HashKV" }
    }

    /// `alarm list -w json`; etcd 3.4 prints `{}` (not even a header) when nothing is raised.
    public struct AlarmList: Decodable, Sendable {
        public let header: Header?
        public let alarms: [Alarm]?

        public struct Alarm: Decodable, Sendable {
            public let memberID: UInt64?
            public let alarm: Int?
        }
    }

    public struct MemberList: Decodable, Sendable {
        public let header: Header
        public let members: [Member]

        public struct Member: Decodable, Sendable {
            public let id: UInt64
            public let name: String
            public let peerURLs: [String]
            public let clientURLs: [String]
            public let isLearner: Bool?

            enum CodingKeys: String, CodingKey { case id = "ID", name, peerURLs, clientURLs, isLearner }

            /// etcd leaves out the name and client URLs of a member that has not started yet.
            public init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                id = try container.decode(UInt64.self, forKey: .id)
                name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
                peerURLs = try container.decodeIfPresent([String].self, forKey: .peerURLs) ?? []
                clientURLs = try container.decodeIfPresent([String].self, forKey: .clientURLs) ?? []
                isLearner = try container.decodeIfPresent(Bool.self, forKey: .isLearner)
            }

            /// The id as etcdctl's member commands take it.
            public var hexID: String { String(id, radix: 16) }
        }
    }
}

private func decodeBase64(_ text: String) throws -> String {
    guard let data = Data(base64Encoded: text) else {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not base64: \(text)"))
    }
    return String(decoding: data, as: UTF8.self)
}

extension KeyedDecodingContainer {
    fileprivate func decodeBase64IfPresent(forKey key: Key) throws -> String {
        try decodeIfPresent(String.self, forKey: key).map(decodeBase64) ?? ""
    }
}
