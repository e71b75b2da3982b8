using System.Globalization;
using System.Text;
using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Primitives.Secp256k1;
using Atomic.Identity.Keys;
using Atomic.Identity.Wallet;

namespace Atomic.Identity.Certificates;

/// <summary>
/// A BRC-52 identity certificate, serialized and signed exactly as @bsv/sdk 2.1.0's <c>Certificate</c>: the
/// certifier signs <see cref="ToBinary"/> without the signature under protocol [2, "certificate signature"] and key id
/// "{type} {serialNumber}", for counterparty anyone, so that anyone can verify it knowing the certifier's key.
/// </summary>
public sealed class Certificate
{
    /// <summary>The protocol certificate signatures are made under.</summary>
    public static readonly WalletProtocol SignatureProtocol = new(2, "certificate signature");

    /// <summary>The reason code of a <see cref="BsvFormatException"/> from <see cref="FromBinary"/>.</summary>
    public const string MalformedCode = "CERTIFICATE_MALFORMED";

    /// <summary>Bytes of the type and of the serial number.</summary>
    public const int IdSize = 32;

    /// <summary>A certificate; <paramref name="type"/> and <paramref name="serialNumber"/> are base64 of 32 bytes each.</summary>
    /// <param name="type">Base64 of the 32-byte certificate type.</param>
    /// <param name="serialNumber">Base64 of the 32-byte serial number.</param>
    /// <param name="subject">Whom the certificate is about.</param>
    /// <param name="certifier">Who signs it.</param>
    /// <param name="revocationOutpoint">"txid.index" of the output whose spending revokes it.</param>
    /// <param name="fields">Field name to value (in a master certificate, base64 of the encrypted value).</param>
    /// <param name="signature">The certifier's DER signature, or null before signing.</param>
    /// <exception cref="ArgumentException">A value has the wrong format or length (the message says which).</exception>
    public Certificate(
        string type,
        string serialNumber,
        PublicKey subject,
        PublicKey certifier,
        string revocationOutpoint,
        IReadOnlyDictionary<string, string> fields,
        byte[]? signature = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(certifier);
        ArgumentNullException.ThrowIfNull(fields);
        TypeBytes = DecodeId(type, nameof(type));
        SerialNumberBytes = DecodeId(serialNumber, nameof(serialNumber));
        (RevocationTxId, RevocationOutputIndex) = ParseOutpoint(revocationOutpoint);
        foreach (var field in fields)
        {
            ArgumentNullException.ThrowIfNull(field.Value, nameof(fields));
        }

        Type = type;
        SerialNumber = serialNumber;
        Subject = subject;
        Certifier = certifier;
        RevocationOutpoint = revocationOutpoint;
        Fields = new Dictionary<string, string>(fields, StringComparer.Ordinal);
        Signature = signature is null || signature.Length == 0 ? null : (byte[])signature.Clone();
    }

    /// <summary>Base64 of the certificate type, as given (the signing key id uses this text).</summary>
    public string Type { get; }

    /// <summary>Base64 of the serial number, as given.</summary>
    public string SerialNumber { get; }

    /// <summary>Whom the certificate is about.</summary>
    public PublicKey Subject { get; }

    /// <summary>Who signed it.</summary>
    public PublicKey Certifier { get; }

    /// <summary>"txid.index" of the revocation output.</summary>
    public string RevocationOutpoint { get; }

    /// <summary>Field name to value.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>The certifier's DER signature, or null.</summary>
    public byte[]? Signature { get; }

    internal byte[] TypeBytes { get; }

    internal byte[] SerialNumberBytes { get; }

    internal byte[] RevocationTxId { get; }

    internal ulong RevocationOutputIndex { get; }

    /// <summary>The key id the certifier signs under: "{type} {serialNumber}".</summary>
    public string SignatureKeyId => $"{Type} {SerialNumber}";

    /// <summary>
    /// type(32) || serialNumber(32) || subject(33) || certifier(33) || txid(32, as written in hex) || varint index ||
    /// varint field count || per field in <see cref="FieldNameOrder"/>: varint length + UTF-8 name, varint length +
    /// UTF-8 value || (optionally) the DER signature to the end.
    /// </summary>
    public byte[] ToBinary(bool includeSignature = true)
    {
        var writer = new BsvWriter();
        writer.WriteBytes(TypeBytes).WriteBytes(SerialNumberBytes);
        writer.WriteBytes(Subject.ToBytes()).WriteBytes(Certifier.ToBytes());
        writer.WriteBytes(RevocationTxId).WriteVarInt(RevocationOutputIndex);
        var names = Fields.Keys.ToList();
        foreach (string name in names)
        {
            FieldNameOrder.Require(name);
        }

        names.Sort(FieldNameOrder.Instance);
        writer.WriteVarInt((ulong)names.Count);
        foreach (string name in names)
        {
            writer.WriteVarBytes(Encoding.UTF8.GetBytes(name));
            writer.WriteVarBytes(Encoding.UTF8.GetBytes(Fields[name]));
        }

        if (includeSignature && Signature is not null)
        {
            writer.WriteBytes(Signature);
        }

        return writer.ToArray();
    }

    /// <summary>Reads <see cref="ToBinary"/>'s format; whatever follows the fields is the DER signature.</summary>
    /// <exception cref="BsvFormatException">The bytes are truncated, a field repeats, or the signature is not DER.</exception>
    public static Certificate FromBinary(ReadOnlySpan<byte> bytes)
    {
        const string Code = MalformedCode;
        var reader = new BsvReader(bytes, Code);
        string type = Convert.ToBase64String(reader.ReadBytes(IdSize));
        string serial = Convert.ToBase64String(reader.ReadBytes(IdSize));
        PublicKey subject = ReadKey(ref reader, Code, "subject");
        PublicKey certifier = ReadKey(ref reader, Code, "certifier");
        string txid = Hex.Encode(reader.ReadBytes(32));
        string outpoint = $"{txid}.{reader.ReadVarInt().ToString(CultureInfo.InvariantCulture)}";
        int count = reader.ReadCount(2, int.MaxValue, "certificate fields");
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            string name = Encoding.UTF8.GetString(reader.ReadVarBytes("field name"));
            string value = Encoding.UTF8.GetString(reader.ReadVarBytes("field value"));
            if (!fields.TryAdd(name, value))
            {
                reader.ThrowFormat(Code, $"The field '{name}' appears twice.");
            }
        }

        byte[]? signature = null;
        if (!reader.IsAtEnd)
        {
            // @bsv/sdk parses the rest as a DER signature and keeps it re-encoded; a non-DER rest is an error there too.
            Span<byte> compact = stackalloc byte[64];
            if (!DerSignature.TryParseLax(reader.ReadBytes(reader.Remaining), compact))
            {
                throw new BsvFormatException(Code, reader.Offset, "The bytes after the fields are not a DER signature.");
            }

            signature = DerSignature.Encode(compact);
        }

        return new Certificate(type, serial, subject, certifier, outpoint, fields, signature);
    }

    /// <summary>This certificate signed by <paramref name="certifierWallet"/>, whose identity key becomes the certifier.</summary>
    /// <exception cref="InvalidOperationException">The certificate is already signed.</exception>
    public Certificate Sign(ProtoWallet certifierWallet)
    {
        ArgumentNullException.ThrowIfNull(certifierWallet);
        if (Signature is not null)
        {
            throw new InvalidOperationException($"Certificate has already been signed! Signature present: {Hex.Encode(Signature)}");
        }

        var unsigned = new Certificate(Type, SerialNumber, Subject, certifierWallet.IdentityKey, RevocationOutpoint, Fields);
        byte[] signature = certifierWallet.CreateSignature(unsigned.ToBinary(includeSignature: false), SignatureProtocol, SignatureKeyId);
        return new Certificate(Type, SerialNumber, Subject, certifierWallet.IdentityKey, RevocationOutpoint, Fields, signature);
    }

    /// <summary>True when the signature is the certifier's over everything else; false when absent or wrong.</summary>
    public bool Verify()
    {
        if (Signature is null)
        {
            return false;
        }

        return ProtoWallet.ForAnyone().VerifySignature(
            ToBinary(includeSignature: false), Signature, SignatureProtocol, SignatureKeyId, Counterparty.Of(Certifier));
    }

    /// <summary>
    /// The protocol and key id a field's key is encrypted under: between certifier and subject the key id is the field
    /// name, to a verifier it is "{serialNumber} {fieldName}".
    /// </summary>
    public static (WalletProtocol Protocol, string KeyId) FieldEncryptionDetails(string fieldName, string? serialNumber = null) =>
        (FieldEncryptionProtocol, string.IsNullOrEmpty(serialNumber) ? fieldName : $"{serialNumber} {fieldName}");

    /// <summary>The protocol field keys are encrypted under.</summary>
    public static WalletProtocol FieldEncryptionProtocol { get; } = new(2, "certificate field encryption");

    private static byte[] DecodeId(string value, string parameter)
    {
        ArgumentNullException.ThrowIfNull(value, parameter);
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"The certificate {parameter} is not valid base64.", parameter, ex);
        }

        if (bytes.Length != IdSize)
        {
            throw new ArgumentException($"The certificate {parameter} is {IdSize} bytes in base64, not {bytes.Length}.", parameter);
        }

        return bytes;
    }

    private static (byte[] TxId, ulong Index) ParseOutpoint(string outpoint)
    {
        ArgumentNullException.ThrowIfNull(outpoint);
        string[] parts = outpoint.Split('.');
        if (parts.Length != 2 || parts[0].Length != 64 || !Hex.TryDecode(parts[0], out byte[] txid)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out ulong index))
        {
            throw new ArgumentException(
                $"A revocation outpoint is \"<64 hex txid>.<output index>\", not \"{outpoint}\".", nameof(outpoint));
        }

        return (txid, index);
    }

    private static PublicKey ReadKey(ref BsvReader reader, string code, string what)
    {
        ReadOnlySpan<byte> key = reader.ReadBytes(33);
        try
        {
            return PublicKey.FromBytes(key);
        }
        catch (ArgumentException)
        {
            reader.ThrowFormat(code, $"The {what} is not a compressed public key.");
            throw;
        }
    }
}
