using System;
using System.Threading.Tasks;

namespace PSReplica.Ssh.Tests;

/// <summary>Pushes bytes through a channel running <c>cat</c> and reads them back, writing and reading at once.</summary>
public static class ChannelRoundTrip
{
    public static byte[] Run(ICommandChannel channel, byte[] data, int chunk = 64 * 1024)
    {
        Task writer = Task.Run(() =>
        {
            for (int offset = 0; offset < data.Length; offset += chunk)
            {
                channel.Stream.Write(data, offset, Math.Min(chunk, data.Length - offset));
            }

            channel.Stream.Flush();
            channel.CloseInput();
        });
        byte[] received = new byte[data.Length + 1];
        int total = 0;
        int read;
        while ((read = channel.Stream.Read(received, total, received.Length - total)) > 0)
        {
            total += read;
            if (total == received.Length)
            {
                break;
            }
        }

        writer.GetAwaiter().GetResult();
        return received.AsSpan(0, total).ToArray();
    }
}
