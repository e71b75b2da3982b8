namespace Atomic.Services.Pipeline;

/// <summary>The names that cross process boundaries (ARCHITECTURE.md): components, topics, app ids, key prefixes.</summary>
public static class Names
{
    /// <summary>The state store of actors, workflows and everything but transaction records.</summary>
    public const string StateStore = "statestore";

    /// <summary>
    /// The store of transaction records (<c>tx|{txid}</c>). Its component carries the outbox
    /// (<c>outboxPublishTopic: beef.submitted</c>), so a record and its <c>beef.submitted</c> event commit together; on
    /// Dapr an outbox publishes every transaction of its store to one topic, hence a store of its own.
    /// </summary>
    public const string TxStore = "txstore";

    public const string PubSub = "pubsub";

    public static class Topics
    {
        public const string BeefSubmitted = "beef.submitted";
        public const string BeefVerified = "beef.verified";
        public const string BeefRejected = "beef.rejected";
        public const string TxBroadcast = "tx.broadcast";
        public const string TxFailed = "tx.failed";
        public const string TxMined = "tx.mined";
    }

    public static class Apps
    {
        public const string Gateway = "atomic-gateway";
        public const string Verifier = "atomic-verifier";
        public const string Overlay = "atomic-overlay";
        public const string Broadcaster = "atomic-broadcaster";
        public const string Orchestrator = "atomic-orchestrator";
        public const string DevChain = "atomic-devchain";
    }

    /// <summary>
    /// The record of a transaction. daprd refuses keys holding <c>||</c> (its own separator between a key prefix and a
    /// key), so the design's <c>tx||{txid}</c> is written <c>tx|{txid}</c> (docs/architecture.md).
    /// </summary>
    public static string TxKey(string txid) => $"tx|{txid}";

    /// <summary>The transaction's verified BEEF (bytes), kept apart from its record: written once by the verifier, upgraded once mined.</summary>
    public static string BeefKey(string txid) => $"beef|{txid}";
}
