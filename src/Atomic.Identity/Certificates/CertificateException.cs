namespace Atomic.Identity.Certificates;

/// <summary>A certificate field or keyring that cannot be used: missing, not base64, or not decryptable with the keys at hand.</summary>
public sealed class CertificateException : Exception
{
    /// <summary>An error about <paramref name="fieldName"/> (or the certificate when null).</summary>
    public CertificateException(string message, string? fieldName = null, Exception? innerException = null)
        : base(message, innerException)
    {
        FieldName = fieldName;
    }

    /// <summary>The field concerned, if any.</summary>
    public string? FieldName { get; }
}
