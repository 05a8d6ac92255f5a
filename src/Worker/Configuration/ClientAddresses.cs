using System.Net;
using System.Net.Sockets;

namespace Newsletter.Worker.Configuration;

/// <summary>How the public pages' and the workspace's rate limits group clients.</summary>
public static class ClientAddresses
{
    /// <summary>A client's rate-limit bucket: its IPv4 address, or its IPv6 /64 — one household or machine is
    /// given a whole /64, so counting each address apart would give it billions of buckets.</summary>
    public static string Partition(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return $"{new IPAddress(bytes)}/64";
    }
}
