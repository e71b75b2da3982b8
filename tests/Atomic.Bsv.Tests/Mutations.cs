namespace Atomic.Bsv.Tests;

/// <summary>Random edits for the bounded property tests: bit flips, byte changes, truncation, insertion, deletion, large varints.</summary>
internal static class Mutations
{
    public static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = (byte)random.Next(256); break;
                case 2: bytes.RemoveRange(at, bytes.Count - at); break; // truncate
                case 3: bytes.Insert(at, (byte)random.Next(256)); break;
                case 4: bytes.RemoveAt(at); break;
                default: bytes[at] = random.Next(2) == 0 ? (byte)0xfd : (byte)0xff; break; // large varints
            }
        }

        return [.. bytes];
    }
}
