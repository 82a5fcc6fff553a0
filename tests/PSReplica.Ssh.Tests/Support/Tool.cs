using System;
using System.Diagnostics;

namespace PSReplica.Ssh.Tests;

/// <summary>Runs OpenSSH's command-line tools (ssh-keygen, ssh) for tests, failing loudly.</summary>
public static class Tool
{
    public static string Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info) ?? throw new InvalidOperationException($"Cannot start {file}.");
        process.StandardInput.Close();
        System.Threading.Tasks.Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}: {error.Result}");
        }

        return output;
    }

    /// <summary>Generates a key pair without passphrase; returns the public key line.</summary>
    public static string KeyGen(string path, string type, string passphrase = "")
    {
        string[] bits = type == "rsa" ? ["-b", "2048"] : [];
        Run("ssh-keygen", ["-q", "-t", type, .. bits, "-N", passphrase, "-C", "psreplica-test", "-f", path]);
        return System.IO.File.ReadAllText(path + ".pub").Trim();
    }
}
