namespace Atomic.Identity.Keys;

/// <summary>
/// A BRC-43 protocol id: a security level (0 anyone, 1 per application, 2 per counterparty) and a protocol name.
/// The name is checked when an invoice number is computed (<see cref="InvoiceNumber"/>), as @bsv/sdk does.
/// </summary>
public readonly record struct WalletProtocol(int SecurityLevel, string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"[{SecurityLevel}, \"{Name}\"]";
}
