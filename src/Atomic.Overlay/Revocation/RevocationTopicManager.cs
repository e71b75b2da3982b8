using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Transactions;

namespace Atomic.Overlay.Revocation;

/// <summary>
/// <c>tm_revocation</c>: the revocation outpoints of BRC-52 certificates. A certifier marks a certificate revocable by
/// creating a PushDrop output locked to its own key whose field 0 is <c>brc52.revocation</c> and field 1 the
/// certificate's 32-byte serial number; the certificate names that output as its <c>revocationOutpoint</c>. The topic
/// admits such outputs and, when one is spent, removes it and reports the certificate revoked.
/// </summary>
public sealed class RevocationTopicManager : ITopicManager
{
    public const string TopicName = "tm_revocation";

    public const string Tag = "brc52.revocation";

    private static readonly byte[] TagBytes = Encoding.UTF8.GetBytes(Tag);

    public string Topic => TopicName;

    public string Documentation =>
        "BRC-52 certificate revocation outpoints: PushDrop outputs with field 0 'brc52.revocation' and field 1 the certificate's 32-byte serial number. " +
        "Spending one revokes the certificate.";

    /// <summary>The revocation output a certifier creates for a certificate with <paramref name="serialNumber"/>.</summary>
    public static Script Lock(PublicKey certifier, ReadOnlySpan<byte> serialNumber)
    {
        if (serialNumber.Length != 32)
        {
            throw new ArgumentException("a BRC-52 serial number is 32 bytes", nameof(serialNumber));
        }

        return PushDrop.Lock(certifier, [TagBytes, serialNumber.ToArray()]);
    }

    /// <summary>The serial number a revocation output guards, or null when the script is not one.</summary>
    public static byte[]? SerialNumberOf(Script lockingScript) =>
        PushDrop.TryDecode(lockingScript, out PushDropFields decoded)
        && decoded.Fields.Count >= 2
        && decoded.Fields[0].AsSpan().SequenceEqual(TagBytes)
        && decoded.Fields[1].Length == 32
            ? decoded.Fields[1]
            : null;

    public TopicAdmission IdentifyAdmissibleOutputs(Transaction transaction, IReadOnlyList<PreviousCoin> previousCoins)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(previousCoins);
        var admit = new List<int>();
        for (int i = 0; i < transaction.Outputs.Count; i++)
        {
            if (SerialNumberOf(transaction.Outputs[i].LockingScript) is not null)
            {
                admit.Add(i);
            }
        }

        var removed = new List<int>(previousCoins.Count);
        foreach (PreviousCoin coin in previousCoins)
        {
            removed.Add(coin.InputIndex);
        }

        return new TopicAdmission(admit, [], removed);
    }

    /// <summary>The certificates <paramref name="transaction"/> revokes: one per spent revocation coin.</summary>
    public static IReadOnlyList<Revoked> Revocations(Transaction transaction, IReadOnlyList<PreviousCoin> previousCoins)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(previousCoins);
        var revoked = new List<Revoked>();
        foreach (PreviousCoin coin in previousCoins)
        {
            if (SerialNumberOf(coin.Output.LockingScript) is byte[] serial)
            {
                revoked.Add(new Revoked(Convert.ToBase64String(serial), coin.OutPoint, transaction.Id));
            }
        }

        return revoked;
    }
}

/// <summary>A certificate revoked: its serial number (base64, as BRC-52 writes it), its revocation outpoint, and the spending transaction.</summary>
public sealed record Revoked(string SerialNumber, OutPoint RevocationOutpoint, Hash256 SpentBy);
