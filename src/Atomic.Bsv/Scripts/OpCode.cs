namespace Atomic.Bsv.Scripts;

/// <summary>Script opcodes, with the Chronicle (node v1.2.0) names for 0x62, 0x65, 0x66 and 0xb3–0xb7.</summary>
#pragma warning disable CA1707 // the node's names are the vocabulary here
public enum OpCode : byte
{
    OP_0 = 0x00,
    OP_PUSHDATA1 = 0x4c,
    OP_PUSHDATA2 = 0x4d,
    OP_PUSHDATA4 = 0x4e,
    OP_1NEGATE = 0x4f,
    OP_RESERVED = 0x50,
    OP_1 = 0x51,
    OP_2, OP_3, OP_4, OP_5, OP_6, OP_7, OP_8, OP_9, OP_10, OP_11, OP_12, OP_13, OP_14, OP_15,
    OP_16 = 0x60,
    OP_NOP = 0x61,
    OP_VER = 0x62,
    OP_IF = 0x63,
    OP_NOTIF = 0x64,
    OP_VERIF = 0x65,
    OP_VERNOTIF = 0x66,
    OP_ELSE = 0x67,
    OP_ENDIF = 0x68,
    OP_VERIFY = 0x69,
    OP_RETURN = 0x6a,
    OP_TOALTSTACK = 0x6b,
    OP_FROMALTSTACK = 0x6c,
    OP_2DROP = 0x6d,
    OP_2DUP = 0x6e,
    OP_3DUP = 0x6f,
    OP_2OVER = 0x70,
    OP_2ROT = 0x71,
    OP_2SWAP = 0x72,
    OP_IFDUP = 0x73,
    OP_DEPTH = 0x74,
    OP_DROP = 0x75,
    OP_DUP = 0x76,
    OP_NIP = 0x77,
    OP_OVER = 0x78,
    OP_PICK = 0x79,
    OP_ROLL = 0x7a,
    OP_ROT = 0x7b,
    OP_SWAP = 0x7c,
    OP_TUCK = 0x7d,
    OP_CAT = 0x7e,
    OP_SPLIT = 0x7f,
    OP_NUM2BIN = 0x80,
    OP_BIN2NUM = 0x81,
    OP_SIZE = 0x82,
    OP_INVERT = 0x83,
    OP_AND = 0x84,
    OP_OR = 0x85,
    OP_XOR = 0x86,
    OP_EQUAL = 0x87,
    OP_EQUALVERIFY = 0x88,
    OP_RESERVED1 = 0x89,
    OP_RESERVED2 = 0x8a,
    OP_1ADD = 0x8b,
    OP_1SUB = 0x8c,
    OP_2MUL = 0x8d,
    OP_2DIV = 0x8e,
    OP_NEGATE = 0x8f,
    OP_ABS = 0x90,
    OP_NOT = 0x91,
    OP_0NOTEQUAL = 0x92,
    OP_ADD = 0x93,
    OP_SUB = 0x94,
    OP_MUL = 0x95,
    OP_DIV = 0x96,
    OP_MOD = 0x97,
    OP_LSHIFT = 0x98,
    OP_RSHIFT = 0x99,
    OP_BOOLAND = 0x9a,
    OP_BOOLOR = 0x9b,
    OP_NUMEQUAL = 0x9c,
    OP_NUMEQUALVERIFY = 0x9d,
    OP_NUMNOTEQUAL = 0x9e,
    OP_LESSTHAN = 0x9f,
    OP_GREATERTHAN = 0xa0,
    OP_LESSTHANOREQUAL = 0xa1,
    OP_GREATERTHANOREQUAL = 0xa2,
    OP_MIN = 0xa3,
    OP_MAX = 0xa4,
    OP_WITHIN = 0xa5,
    OP_RIPEMD160 = 0xa6,
    OP_SHA1 = 0xa7,
    OP_SHA256 = 0xa8,
    OP_HASH160 = 0xa9,
    OP_HASH256 = 0xaa,
    OP_CODESEPARATOR = 0xab,
    OP_CHECKSIG = 0xac,
    OP_CHECKSIGVERIFY = 0xad,
    OP_CHECKMULTISIG = 0xae,
    OP_CHECKMULTISIGVERIFY = 0xaf,
    OP_NOP1 = 0xb0,
    OP_CHECKLOCKTIMEVERIFY = 0xb1,
    OP_CHECKSEQUENCEVERIFY = 0xb2,
    OP_SUBSTR = 0xb3,
    OP_LEFT = 0xb4,
    OP_RIGHT = 0xb5,
    OP_LSHIFTNUM = 0xb6,
    OP_RSHIFTNUM = 0xb7,
    OP_NOP9 = 0xb8,
    OP_NOP10 = 0xb9,
    OP_INVALIDOPCODE = 0xff,
}
#pragma warning restore CA1707

/// <summary>Opcode names as the node's ASM and the test vectors write them.</summary>
public static class OpCodeNames
{
    private static readonly Dictionary<string, byte> ByName = BuildByName();
    private static readonly string?[] ByValue = BuildByValue();

    /// <summary>Looks up "OP_DUP", "DUP", "TRUE", "FALSE", "NOP2"…"NOP8" (aliases of 0xb1–0xb7).</summary>
    public static bool TryParse(string token, out byte opcode)
    {
        string name = token.StartsWith("OP_", StringComparison.Ordinal) ? token[3..] : token;
        return ByName.TryGetValue(name, out opcode);
    }

    /// <summary>"OP_DUP" style name, or null for undefined values.</summary>
    public static string? NameOf(byte opcode) => ByValue[opcode];

    private static Dictionary<string, byte> BuildByName()
    {
        var map = new Dictionary<string, byte>(StringComparer.Ordinal);
        foreach (OpCode op in Enum.GetValues<OpCode>())
        {
            map[op.ToString()[3..]] = (byte)op;
        }

        map["FALSE"] = 0x00;
        map["TRUE"] = 0x51;
        map["NOP2"] = 0xb1;
        map["NOP3"] = 0xb2;
        map["NOP4"] = 0xb3;
        map["NOP5"] = 0xb4;
        map["NOP6"] = 0xb5;
        map["NOP7"] = 0xb6;
        map["NOP8"] = 0xb7;
        return map;
    }

    private static string?[] BuildByValue()
    {
        var names = new string?[256];
        foreach (OpCode op in Enum.GetValues<OpCode>())
        {
            names[(byte)op] = op.ToString();
        }

        return names;
    }
}
