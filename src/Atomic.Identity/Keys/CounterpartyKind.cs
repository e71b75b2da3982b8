namespace Atomic.Identity.Keys;

/// <summary>The three kinds of <see cref="Counterparty"/>.</summary>
public enum CounterpartyKind
{
    /// <summary>The root key's own public key.</summary>
    Self,

    /// <summary>1·G.</summary>
    Anyone,

    /// <summary>A given public key.</summary>
    Other,
}
