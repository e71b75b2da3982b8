namespace Atomic.Bsv.Scripts;

/// <summary>Script verification flags, named as the node's test vectors name them.</summary>
[Flags]
public enum ScriptFlags : uint
{
    None = 0,
    P2SH = 1u << 0,
    StrictEnc = 1u << 1,
    DerSig = 1u << 2,
    LowS = 1u << 3,
    NullDummy = 1u << 4,
    SigPushOnly = 1u << 5,
    MinimalData = 1u << 6,
    DiscourageUpgradableNops = 1u << 7,
    CleanStack = 1u << 8,
    CheckLockTimeVerify = 1u << 9,
    CheckSequenceVerify = 1u << 10,
    MinimalIf = 1u << 11,
    NullFail = 1u << 12,
    SighashForkId = 1u << 13,
    Genesis = 1u << 14,
    UtxoAfterGenesis = 1u << 15,
    UtxoAfterChronicle = 1u << 16,

    /// <summary>Genesis and Chronicle script rules with strict encodings and FORKID signatures, as the network applies today.</summary>
    PostChronicle = StrictEnc | DerSig | SighashForkId | Genesis | UtxoAfterGenesis | UtxoAfterChronicle,

    /// <summary>The malleability rules Chronicle keeps for version-1 transactions only.</summary>
    Malleability = MinimalData | LowS | NullDummy | SigPushOnly | CleanStack,

    /// <summary>The standard rules for a version-1 transaction (see <see cref="StandardScriptFlags.For"/>).</summary>
    StandardPostGenesis = PostChronicle | Malleability,
}

/// <summary>The rule set SPV verification applies, as <c>@bsv/sdk</c> does for a spend without explicit flags.</summary>
public static class StandardScriptFlags
{
    /// <summary>
    /// Post-Chronicle rules, plus the malleability rules when <paramref name="txVersion"/> is 1 or less (Chronicle
    /// relaxes them for later versions). Stricter than @bsv/sdk in one respect: signatures must use FORKID, as the node
    /// requires after Genesis.
    /// </summary>
    public static ScriptFlags For(int txVersion) =>
        (uint)txVersion > 1 ? ScriptFlags.PostChronicle : ScriptFlags.PostChronicle | ScriptFlags.Malleability;
}

/// <summary>Reads the comma-separated flag names used by the node's vectors ("P2SH,STRICTENC").</summary>
public static class ScriptFlagNames
{
    private static readonly Dictionary<string, ScriptFlags> ByName = new(StringComparer.Ordinal)
    {
        ["NONE"] = ScriptFlags.None,
        ["P2SH"] = ScriptFlags.P2SH,
        ["STRICTENC"] = ScriptFlags.StrictEnc,
        ["DERSIG"] = ScriptFlags.DerSig,
        ["LOW_S"] = ScriptFlags.LowS,
        ["NULLDUMMY"] = ScriptFlags.NullDummy,
        ["SIGPUSHONLY"] = ScriptFlags.SigPushOnly,
        ["MINIMALDATA"] = ScriptFlags.MinimalData,
        ["DISCOURAGE_UPGRADABLE_NOPS"] = ScriptFlags.DiscourageUpgradableNops,
        ["CLEANSTACK"] = ScriptFlags.CleanStack,
        ["CHECKLOCKTIMEVERIFY"] = ScriptFlags.CheckLockTimeVerify,
        ["CHECKSEQUENCEVERIFY"] = ScriptFlags.CheckSequenceVerify,
        ["MINIMALIF"] = ScriptFlags.MinimalIf,
        ["NULLFAIL"] = ScriptFlags.NullFail,
        ["SIGHASH_FORKID"] = ScriptFlags.SighashForkId,
        ["GENESIS"] = ScriptFlags.Genesis,
        ["UTXO_AFTER_GENESIS"] = ScriptFlags.UtxoAfterGenesis,
        ["UTXO_AFTER_CHRONICLE"] = ScriptFlags.UtxoAfterChronicle,
    };

    public static ScriptFlags Parse(string names)
    {
        ScriptFlags flags = ScriptFlags.None;
        foreach (string raw in names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ByName.TryGetValue(raw, out ScriptFlags f))
            {
                throw new FormatException($"unknown script flag '{raw}'");
            }

            flags |= f;
        }

        return flags;
    }
}
