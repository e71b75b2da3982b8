using Atomic.Bsv.Primitives;
using Atomic.Bsv.Primitives.Keys;
using Atomic.Bsv.Scripts;
using Atomic.Bsv.Spv;
using Atomic.Bsv.Transactions;

namespace Atomic.Sessions;

/// <summary>Reading contributed inputs, checking signatures and building the finished BEEF.</summary>
public static class SessionSigning
{
    /// <summary>
    /// The input a party contributes: output <paramref name="outputIndex"/> of the subject of an Atomic BEEF. Only the
    /// shape is checked here; the caller runs SPV on the BEEF. Throws <see cref="SessionException"/>
    /// (<see cref="SessionCodes.ContributionInvalid"/>) or <see cref="BsvFormatException"/> for bytes that are no BEEF.
    /// </summary>
    public static ContributedInput ReadInput(ReadOnlyMemory<byte> atomicBeef, long outputIndex)
    {
        Beef beef = Beef.FromMemory(atomicBeef);
        if (beef.AtomicTxId is not Hash256 subject)
        {
            throw new SessionException(SessionCodes.ContributionInvalid, "an input's BEEF must be Atomic BEEF (BRC-95) of the transaction it spends");
        }

        if (beef.Find(subject)?.Transaction is not Transaction source)
        {
            throw new SessionException(SessionCodes.ContributionInvalid, $"the BEEF does not hold its subject {subject.ToDisplayHex()} in full");
        }

        if (outputIndex < 0 || outputIndex >= source.Outputs.Count)
        {
            throw new SessionException(SessionCodes.ContributionInvalid, $"{subject.ToDisplayHex()} has {source.Outputs.Count} outputs, not an output {outputIndex}");
        }

        return new ContributedInput(new OutPoint(subject, (uint)outputIndex), source.Outputs[(int)outputIndex], beef);
    }

    /// <summary>
    /// Runs <paramref name="unlocking"/> for input <paramref name="index"/> of <paramref name="unsigned"/> against the
    /// output it spends, with our interpreter (SIGHASH_ALL|FORKID signs every output and no other unlocking script, so
    /// each input is checked on its own).
    /// </summary>
    public static ScriptResult Check(Transaction unsigned, SessionInput input, Script unlocking)
    {
        ArgumentNullException.ThrowIfNull(unsigned);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(unlocking);
        Transaction candidate = WithUnlocking(unsigned, [(input.Index, unlocking)]);
        ScriptResult result = Spend.Validate(candidate, input.Index, new TxOutput(input.SourceSatoshis, input.SourceLockingScript));
        return result.IsSuccess && !SignsAllForkId(unlocking.Span)
            ? new ScriptResult(ScriptError.SigHashtype, ScriptPhase.Final, -1, "a session's inputs are signed SIGHASH_ALL|FORKID (0x41)", [], [])
            : result;
    }

    /// <summary>
    /// Checks one signature (DER and its sighash byte) by <paramref name="key"/> of input <paramref name="index"/> of
    /// <paramref name="tx"/>, which spends <paramref name="source"/>, as our interpreter's OP_CHECKSIG would: strict DER,
    /// low S, SIGHASH_ALL|FORKID, over the digest with the whole locking script as script code. For a signature checked
    /// before the rest of its unlocking script is known (a bridge's claim waits for the secret).
    /// </summary>
    public static SessionCheck CheckSignature(Transaction tx, int index, TxOutput source, PublicKey key, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(key);
        if (signature.Length < 9 || signature[^1] != (SigHashType.All | SigHashType.ForkId))
        {
            return SessionCheck.Refuse(SessionCodes.SignatureInvalid, "a signature is DER followed by SIGHASH_ALL|FORKID (0x41)");
        }

        if (!Bsv.Primitives.Secp256k1.DerSignature.IsStrictDer(signature) || !Bsv.Primitives.Secp256k1.DerSignature.IsLowS(signature[..^1]))
        {
            return SessionCheck.Refuse(SessionCodes.SignatureInvalid, "the signature is not strict DER with a low S");
        }

        var checker = new TransactionSignatureChecker(tx, index, source.Satoshis);
        return checker.CheckSig(signature, key.ToBytes(), source.LockingScript.Span, forkIdEnabled: true)
            ? SessionCheck.Ok
            : SessionCheck.Refuse(SessionCodes.SignatureInvalid, $"the signature does not verify against {key.ToHex()} for input {index} of {tx.Id.ToDisplayHex()}");
    }

    /// <summary>Whether every push shaped like a DER signature (9 to 73 bytes, 0x30 first) ends in SIGHASH_ALL|FORKID.</summary>
    private static bool SignsAllForkId(ReadOnlySpan<byte> unlocking)
    {
        var reader = new ScriptReader(unlocking);
        while (reader.TryRead(out _, out ReadOnlySpan<byte> data, out bool malformed))
        {
            if (malformed)
            {
                return false;
            }

            if (data.Length is >= 9 and <= 73 && data[0] == 0x30 && data[^1] != (SigHashType.All | SigHashType.ForkId))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The transaction with the given unlocking scripts in place.</summary>
    public static Transaction WithUnlocking(Transaction unsigned, IEnumerable<(int Index, Script Unlocking)> scripts)
    {
        ArgumentNullException.ThrowIfNull(unsigned);
        ArgumentNullException.ThrowIfNull(scripts);
        TxInput[] inputs = [.. unsigned.Inputs];
        foreach ((int index, Script unlocking) in scripts)
        {
            inputs[index] = inputs[index] with { UnlockingScript = unlocking };
        }

        return new Transaction(unsigned.Version, inputs, unsigned.Outputs, unsigned.LockTime);
    }

    /// <summary>The finished transaction as Atomic BEEF, every contributed input's ancestry merged in.</summary>
    public static byte[] AtomicBeef(Transaction signed, IEnumerable<ContributedInput> inputs)
    {
        ArgumentNullException.ThrowIfNull(signed);
        ArgumentNullException.ThrowIfNull(inputs);
        var beef = new Beef(BeefVersion.V2, [], []);
        foreach (ContributedInput input in inputs)
        {
            beef.Merge(input.Beef);
        }

        beef.Merge(new Beef(BeefVersion.V2, [], [BeefTx.FromTransaction(signed)]));
        return beef.ToAtomicBytes(signed.Id);
    }

    /// <summary>
    /// A party's request signature: the DER ECDSA signature (hex) by its identity key of SHA-256 of the raw body.
    /// </summary>
    public static bool VerifyRequest(PublicKey identityKey, ReadOnlySpan<byte> body, string? signatureHex)
    {
        ArgumentNullException.ThrowIfNull(identityKey);
        if (string.IsNullOrEmpty(signatureHex) || signatureHex.Length > 146 || !Hex.TryDecode(signatureHex, out byte[] der))
        {
            return false;
        }

        try
        {
            return identityKey.Verify(Hashes.Sha256(body), der);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Signs a request body as a party does (for clients, the CLI's demo and tests).</summary>
    public static string SignRequest(PrivateKey identity, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return Hex.Encode(identity.Sign(Hashes.Sha256(body)));
    }
}
