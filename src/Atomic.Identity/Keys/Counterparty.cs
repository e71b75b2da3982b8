using Atomic.Bsv.Primitives.Keys;

namespace Atomic.Identity.Keys;

/// <summary>
/// Whom a BRC-42 key is shared with: <c>self</c> (the root key's own public key), <c>anyone</c> (the public key of
/// the private key 1, so that anyone can derive it) or a given public key.
/// </summary>
public sealed class Counterparty : IEquatable<Counterparty>
{
    private Counterparty(CounterpartyKind kind, PublicKey? publicKey)
    {
        Kind = kind;
        PublicKey = publicKey;
    }

    /// <summary>The root key's own public key.</summary>
    public static Counterparty Self { get; } = new(CounterpartyKind.Self, null);

    /// <summary>The public key 1·G, known to everyone.</summary>
    public static Counterparty Anyone { get; } = new(CounterpartyKind.Anyone, null);

    /// <summary>Which of the three this is.</summary>
    public CounterpartyKind Kind { get; }

    /// <summary>The counterparty's key when <see cref="Kind"/> is <see cref="CounterpartyKind.Other"/>.</summary>
    public PublicKey? PublicKey { get; }

    /// <summary>A counterparty identified by its public key.</summary>
    public static Counterparty Of(PublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        return new Counterparty(CounterpartyKind.Other, publicKey);
    }

    /// <summary>"self", "anyone" or a public key in hex, as BRC-100 wallets take it.</summary>
    /// <exception cref="ArgumentException">The text is none of these.</exception>
    public static Counterparty Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text switch
        {
            "self" => Self,
            "anyone" => Anyone,
            _ => Of(PublicKey.FromHex(text)),
        };
    }

    /// <summary>Lets a public key stand where a counterparty is expected.</summary>
    public static implicit operator Counterparty(PublicKey publicKey) => Of(publicKey);

    /// <inheritdoc />
    public bool Equals(Counterparty? other) =>
        other is not null && Kind == other.Kind && Equals(PublicKey, other.PublicKey);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Counterparty);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, PublicKey);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        CounterpartyKind.Self => "self",
        CounterpartyKind.Anyone => "anyone",
        _ => PublicKey!.ToHex(),
    };
}
