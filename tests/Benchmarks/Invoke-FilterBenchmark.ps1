#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Times filter-rule matching (issue #4): 1,000,000 paths through 100 rsync rules, in the engine and beside rsync.
.DESCRIPTION
    A benchmark, not a test: it prints figures and fails only when a run is broken (a tool fails, or the two select
    a different number of paths, which is reported, not hidden).

    Data (deterministic from -Seed)
      A tree of -PathCount entries shaped like a source tree: directories 1 to 9 levels deep (most files 3 to 7
      levels down), 0 to 24 files per directory, names from a vocabulary of words, build and VCS directories
      (node_modules, .git, obj, target ...), extensions, spaces and a few non-ASCII names.
      100 rules ('+'/'-', about a quarter includes) drawn from the tree's names by RandomRules.psm1 in every pattern
      form rsync has (floating and anchored names, '*', '?', classes, '**', '***', inner '/', dir-only), leaving out
      the catch-all ones ('*', '*/' ...) and any that, as an exclude, would leave out more than 2% of a 5,000-path
      sample (itself or through an ancestor directory; judged by rsync on the sample written to -WorkPath, so that
      the rules do not depend on the build measured), so that, as with a real rule file, most paths go through
      most of the rules and most of the tree is selected.

    (a) engine   SyncFilter.Test(path, isDirectory) over every path (each path on its own, no pruning), in a
                 compiled loop so that PowerShell's per-call cost is not measured; -Runs times, median; ns/path.
    (b) tree     the same tree as empty files and directories on tmpfs (-WorkPath), then, interleaved, -Runs times:
                   rsync -r -n --out-format=%n --filter=RULE x100 SRC/ MISSING/   (stdout to a file)
                   Get-SyncPlan -Path SRC -Destination MISSING -FilterRule RULE x100   (items collected)
                 The destination does not exist, so each lists exactly what it selects; excluded directories are
                 pruned by both. Medians and the ratio PSReplica / rsync; the selected counts must agree.

    Until -FilterRule exists (issue #4 in progress) the script builds the same ordered '+'/'-' rules through the
    engine's FilterRule.Include/Exclude and passes them with -Filter.
.PARAMETER PathCount
    Entries in the tree (directories and files). Default 1,000,000.
.PARAMETER RuleCount
    Rules. Default 100.
.PARAMETER Runs
    Timed runs per measurement; the median is reported. Default 3.
.PARAMETER Part
    Engine, Tree or both (default).
.PARAMETER WorkPath
    A tmpfs directory; a psreplica-filterbench-<pid> directory is made under it and removed at the end.
    1,000,000 empty entries take about 1 GiB of memory there.
.PARAMETER Quick
    Smoke run: 50,000 entries, 1 run.
.EXAMPLE
    dotnet pwsh ./tests/Benchmarks/Invoke-FilterBenchmark.ps1 -Quick
#>
[CmdletBinding()]
param(
    [ValidateRange(100, 5000000)] [int] $PathCount = 1000000,
    [ValidateRange(1, 1000)] [int] $RuleCount = 100,
    [ValidateRange(1, 100)] [int] $Runs = 3,
    [ValidateSet('Engine', 'Tree', 'Both')] [string] $Part = 'Both',
    [int] $Seed = 4242,
    [ValidateNotNullOrEmpty()] [string] $WorkPath = '/dev/shm',
    [string] $ModulePath,
    [switch] $Quick,
    [switch] $KeepWorkPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module (Join-Path $PSScriptRoot 'BenchmarkSupport.psm1') -Force

$repoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
if (-not $ModulePath) { $ModulePath = Join-Path $repoRoot 'out/PSReplica/PSReplica.psd1' }
if ($Quick) {
    if (-not $PSBoundParameters.ContainsKey('PathCount')) { $PathCount = 50000 }
    if (-not $PSBoundParameters.ContainsKey('Runs')) { $Runs = 1 }
}
Import-Module (Resolve-Path $ModulePath).ProviderPath -Force
Import-Module (Join-Path $repoRoot 'tests/Pester/Support/RandomRules.psm1') -Force
$engine = [PSReplica.SyncFilter].Assembly

Add-Type -ReferencedAssemblies $engine.Location, 'System.Collections', 'System.Runtime', 'System.Linq' -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;

/// <summary>A deterministic source-like tree as parallel arrays (paths relative to the root, '/'-separated).</summary>
public sealed class FilterBenchTree
{
    private static readonly string[] Words = {
        "src", "lib", "include", "docs", "test", "tests", "build", "bin", "obj", "target", "dist", "out", "vendor",
        "node_modules", ".git", ".cache", "cache", "tmp", "assets", "images", "core", "util", "net", "io", "api",
        "model", "view", "config", "scripts", "data", "report 2024", "old", "backup", "release", "debug", "x86_64",
        "main", "index", "readme", "LICENSE", "Makefile", "setup", "app", "server", "client", "common", "alpha",
        "beta", "gamma", "delta", "notes", "draft", "final", "v1", "v2", "résumé", "日本", "naïve", "Ω", "[x]" };
    private static readonly string[] Extensions = {
        "", "", ".c", ".h", ".o", ".cs", ".js", ".json", ".md", ".txt", ".log", ".tmp", ".bak", "~", ".py", ".pyc",
        ".png", ".jpg", ".so", ".a", ".tar.gz", ".html", ".css", ".xml" };

    public string[] Paths { get; }
    public bool[] IsDirectory { get; }

    public FilterBenchTree(int seed, int count)
    {
        var rng = new Random(seed);
        var paths = new List<string>(count);
        var dirs = new List<bool>(count);
        var stack = new Stack<(string Path, int Depth)>();
        var rootNames = new HashSet<string>(StringComparer.Ordinal);
        stack.Push((string.Empty, 0));
        while (paths.Count < count)
        {
            if (stack.Count == 0) stack.Push((string.Empty, 0));   // widen the root until the count is reached
            var (dir, depth) = stack.Pop();
            // The root may be visited again (to reach the count): its names must stay unique across visits.
            var used = dir.Length == 0 ? rootNames : new HashSet<string>(StringComparer.Ordinal);
            int files = rng.Next(0, 25);
            int subdirs = depth < 1 ? rng.Next(4, 12) : depth < 4 ? rng.Next(1, 5) : depth < 7 ? rng.Next(0, 3) : depth < 9 ? rng.Next(0, 2) : 0;
            var children = new List<(string, int)>();
            for (int i = 0; i < files + subdirs && paths.Count < count; i++)
            {
                bool isDir = i >= files;
                string name = Words[rng.Next(Words.Length)] + (isDir && rng.Next(8) != 0 ? "" : Extensions[rng.Next(Extensions.Length)]);
                for (int n = 2; !used.Add(name); n++) name = Words[rng.Next(Words.Length)] + "-" + n + Extensions[rng.Next(Extensions.Length)];
                string path = dir.Length == 0 ? name : dir + "/" + name;
                paths.Add(path);
                dirs.Add(isDir);
                if (isDir) children.Add((path, depth + 1));
            }
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
        Paths = paths.ToArray();
        IsDirectory = dirs.ToArray();
    }

    /// <summary>Directories, files, mean and maximum depth (components per path).</summary>
    public double[] Shape()
    {
        long directories = 0, components = 0, max = 0;
        for (int i = 0; i < Paths.Length; i++)
        {
            if (IsDirectory[i]) directories++;
            int depth = 1;
            foreach (char c in Paths[i]) if (c == '/') depth++;
            components += depth;
            max = Math.Max(max, depth);
        }
        return new double[] { directories, Paths.Length - directories, (double)components / Paths.Length, max };
    }

    /// <summary>Creates every step-th entry (and its ancestor directories) under root.</summary>
    public void WriteSample(string root, int step)
    {
        Directory.CreateDirectory(root);
        for (int i = 0; i < Paths.Length; i += step)
        {
            string full = Path.Join(root, Paths[i]);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            if (IsDirectory[i]) Directory.CreateDirectory(full);
            else File.Create(full).Dispose();
        }
    }

    /// <summary>Creates the tree under root: directories and empty files.</summary>
    public void Write(string root)
    {
        Directory.CreateDirectory(root);
        for (int i = 0; i < Paths.Length; i++)
        {
            string full = Path.Join(root, Paths[i]);
            if (IsDirectory[i]) Directory.CreateDirectory(full);
            else File.Create(full).Dispose();
        }
    }

    /// <summary>Times filter.Test over every path; returns elapsed ticks (Stopwatch) and the number selected.</summary>
    public long[] TimeTest(PSReplica.SyncFilter filter, int count)
    {
        int selected = 0;
        var clock = Stopwatch.StartNew();
        string[] paths = Paths;
        bool[] isDirectory = IsDirectory;
        for (int i = 0; i < count; i++)
        {
            if (filter.Test(paths[i], isDirectory[i])) selected++;
        }
        clock.Stop();
        return new long[] { clock.ElapsedTicks, selected };
    }

    /// <summary>The fraction of a sample of paths that no rule decides (they go through every rule), from Explain.</summary>
    public double Undecided(PSReplica.SyncFilter filter, int sample)
    {
        int undecided = 0, tested = 0;
        for (int i = 0; i < Paths.Length; i += Math.Max(1, Paths.Length / sample), tested++)
        {
            if (filter.Explain(Paths[i], IsDirectory[i]) is null) undecided++;
        }
        return (double)undecided / tested;
    }

    /// <summary>The fraction of a sample of paths that the filter leaves out, itself or through an excluded
    /// ancestor directory (which the scanner does not enter).</summary>
    public double Excluded(PSReplica.SyncFilter filter, int sample)
    {
        int excluded = 0, tested = 0;
        for (int i = 0; i < Paths.Length; i += Math.Max(1, Paths.Length / sample), tested++)
        {
            string path = Paths[i];
            bool isOut = !filter.Test(path, IsDirectory[i]);
            for (int slash = path.IndexOf('/'); !isOut && slash > 0; slash = path.IndexOf('/', slash + 1))
            {
                isOut = !filter.Test(path.Substring(0, slash), true);
            }
            if (isOut) excluded++;
        }
        return (double)excluded / tested;
    }
}
'@

function Get-RsyncListCount {
    <# The number of names rsync -r -n --out-format=%n lists for SOURCE/ into a missing destination with the rules. #>
    param([string] $Source, [string[]] $Rules)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('rsync')
    foreach ($a in @('-r', '-n', '--out-format=%n') + @($Rules | ForEach-Object { "--filter=$_" }) + @('--', "$Source/", "$Source.missing/")) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
    $psi.Environment['LC_ALL'] = 'C.UTF-8'
    $process = [System.Diagnostics.Process]::Start($psi)
    $stderr = $process.StandardError.ReadToEndAsync()
    $text = $process.StandardOutput.ReadToEnd()
    $process.WaitForExit()
    if ($process.ExitCode -ne 0) { throw "rsync exited with $($process.ExitCode): $($stderr.GetAwaiter().GetResult())" }
    @($text.Split("`n") | Where-Object { $_ }).Count
}

function New-BenchRule {
    <# $Count '+'/'-' rules drawn from a sample of the tree's paths, in rsync syntax. rsync judges how much of the
       sample each rule leaves out (so the rule set does not depend on the PSReplica build being measured). #>
    param($Tree, [int] $Count, [int] $Seed, [string] $SampleRoot)
    $rng = [System.Random]::new($Seed)
    $sample = [System.Collections.Generic.List[string]]::new()   # the paths patterns are drawn from
    $types = @{}
    $step = [Math]::Max(1, [int]($Tree.Paths.Length / 5000))
    for ($i = 0; $i -lt $Tree.Paths.Length; $i += $step) {
        $sample.Add($Tree.Paths[$i]); $types[$Tree.Paths[$i]] = if ($Tree.IsDirectory[$i]) { 'd' } else { 'f' }
    }
    $Tree.WriteSample($SampleRoot, $step)
    try {
        $all = Get-RsyncListCount -Source $SampleRoot -Rules @()
        $module = Get-Module RandomRules
        $seen = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::Ordinal)
        $rules = [System.Collections.Generic.List[string]]::new()
        while ($rules.Count -lt $Count) {
            $pattern = & $module { param($r, $p, $t) Get-RandomPattern -Rng $r -Paths $p -Types $t -Selective } $rng $sample $types
            if (-not $seen.Add($pattern)) { continue }
            # Like a real rule file, each rule names a small part of the tree: as an exclude, at most 2% of the sample.
            if ((Get-RsyncListCount -Source $SampleRoot -Rules @("- $pattern")) -lt $all * 0.98) { continue }
            $rules.Add($(if ($rng.Next(100) -lt 25) { '+ ' } else { '- ' }) + $pattern)
        }
    }
    finally { & /bin/rm -rf -- $SampleRoot }
    , $rules.ToArray()
}

function New-BenchFilter([string[]] $Rules) {
    if ((Get-Command New-SyncFilter).Parameters.ContainsKey('Rule')) { return New-SyncFilter -Rule $Rules }
    # Before issue #4's -Rule: the same ordered rules through the engine's factories.
    $list = foreach ($r in $Rules) { if ($r.StartsWith('+ ')) { [PSReplica.FilterRule]::Include($r.Substring(2), $null, 0) } else { [PSReplica.FilterRule]::Exclude($r.Substring(2), $null, 0) } }
    [PSReplica.SyncFilter]::new([PSReplica.FilterRule[]]@($list))
}

function Invoke-RsyncTimed {
    <# rsync -r -n --out-format=%n with the rules; stdout goes to $OutFile. Returns seconds and the lines written. #>
    param([string] $Source, [string] $Destination, [string[]] $Rules, [string] $OutFile)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('rsync')
    foreach ($a in @('-r', '-n', '--out-format=%n')) { $psi.ArgumentList.Add($a) }
    foreach ($r in $Rules) { $psi.ArgumentList.Add("--filter=$r") }
    foreach ($a in @('--', "$Source/", "$Destination/")) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
    $psi.Environment['LC_ALL'] = 'C.UTF-8'
    $file = [System.IO.File]::Create($OutFile)
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $process = [System.Diagnostics.Process]::Start($psi)
    $stderr = $process.StandardError.ReadToEndAsync()
    try { $process.StandardOutput.BaseStream.CopyTo($file) } finally { $file.Dispose() }
    $process.WaitForExit()
    $clock.Stop()
    if ($process.ExitCode -ne 0) { throw "rsync exited with $($process.ExitCode): $($stderr.GetAwaiter().GetResult())" }
    $lines = 0
    foreach ($line in [System.IO.File]::ReadLines($OutFile)) { if ($line.Length -gt 0) { $lines++ } }
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Selected = $lines }
}

function Invoke-PlanTimed {
    param([string] $Source, [string] $Destination, [string[]] $Rules, $Filter)
    [System.GC]::Collect(); [System.GC]::WaitForPendingFinalizers(); [System.GC]::Collect()
    $options = @{ Path = $Source; Destination = $Destination }
    if ((Get-Command Get-SyncPlan).Parameters.ContainsKey('FilterRule')) { $options.FilterRule = $Rules } else { $options.Filter = $Filter }
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $items = @(Get-SyncPlan @options)
    $clock.Stop()
    [pscustomobject]@{ Seconds = $clock.Elapsed.TotalSeconds; Selected = $items.Count }
}

# ------------------------------------------------------------------------------------------------------------ data
Write-Host ("Generating {0:N0} paths and {1} rules (seed {2})" -f $PathCount, $RuleCount, $Seed) -ForegroundColor Cyan
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$tree = [FilterBenchTree]::new($Seed, $PathCount)
$rules = New-BenchRule -Tree $tree -Count $RuleCount -Seed $Seed -SampleRoot (Join-Path $WorkPath "psreplica-filterbench-$PID-sample")
$filter = New-BenchFilter $rules
$shape = $tree.Shape()
Write-Host ("  {0:N0} directories, {1:N0} files, mean depth {2:N1} (max {3}); {4:N1}s" -f $shape[0], $shape[1], $shape[2], $shape[3], $clock.Elapsed.TotalSeconds)
Write-Host ("  of a 20,000-path sample: {0:P0} decided by no rule (they go through all {1}), {2:P0} left out (with pruning)" -f
    $tree.Undecided($filter, 20000), $RuleCount, $tree.Excluded($filter, 20000))
Write-Host "  rules: $($rules[0..9] -join ' | ') ..."

$results = [ordered]@{}

# ------------------------------------------------------------------------------------------------------- (a) engine
if ($Part -in 'Engine', 'Both') {
    Write-Host 'Engine: SyncFilter.Test over every path' -ForegroundColor Cyan
    $null = $tree.TimeTest($filter, [Math]::Min(50000, $tree.Paths.Length))   # warm-up: JIT and tiering
    $seconds = foreach ($run in 1..$Runs) {
        $r = $tree.TimeTest($filter, $tree.Paths.Length)
        $s = $r[0] / [System.Diagnostics.Stopwatch]::Frequency
        Write-Host ("  run {0}: {1:N3}s, {2:N0} selected" -f $run, $s, $r[1])
        $s
    }
    $median = Get-Median $seconds
    $results['engine'] = [pscustomobject]@{ Seconds = $median; NsPerPath = $median * 1e9 / $tree.Paths.Length; Selected = $r[1] }
    Write-Host ("  median {0:N3}s = {1:N0} ns/path ({2:N0} paths x {3} rules)" -f $median, $results['engine'].NsPerPath, $tree.Paths.Length, $RuleCount)
}

# --------------------------------------------------------------------------------------------------------- (b) tree
if ($Part -in 'Tree', 'Both') {
    $work = Join-Path $WorkPath "psreplica-filterbench-$PID"
    $source = Join-Path $work 'src'
    $missing = Join-Path $work 'missing'
    try {
        Write-Host "Tree: writing $($tree.Paths.Length) entries under $source" -ForegroundColor Cyan
        $clock.Restart()
        $tree.Write($source)
        Write-Host ("  written in {0:N1}s" -f $clock.Elapsed.TotalSeconds)
        # Warm-up (untimed): JIT for PSReplica, the dentry cache for both.
        $null = Invoke-RsyncTimed -Source $source -Destination $missing -Rules $rules -OutFile (Join-Path $work 'rsync.out')
        $null = Invoke-PlanTimed -Source $source -Destination $missing -Rules $rules -Filter $filter
        $rsyncTimes = [System.Collections.Generic.List[double]]::new()
        $planTimes = [System.Collections.Generic.List[double]]::new()
        $counts = @{}
        for ($run = 1; $run -le $Runs; $run++) {
            # Alternate which tool goes first, so that neither always follows the other's clean-up.
            $order = if ($run % 2) { 'rsync', 'psreplica' } else { 'psreplica', 'rsync' }
            foreach ($tool in $order) {
                $r = if ($tool -eq 'rsync') { Invoke-RsyncTimed -Source $source -Destination $missing -Rules $rules -OutFile (Join-Path $work 'rsync.out') }
                else { Invoke-PlanTimed -Source $source -Destination $missing -Rules $rules -Filter $filter }
                if ($tool -eq 'rsync') { $rsyncTimes.Add($r.Seconds) } else { $planTimes.Add($r.Seconds) }
                $counts[$tool] = $r.Selected
                Write-Host ("  run {0} {1,-9}: {2:N3}s, {3:N0} selected" -f $run, $tool, $r.Seconds, $r.Selected)
            }
        }
        $results['tree'] = [pscustomobject]@{
            Rsync = Get-Median $rsyncTimes; PSReplica = Get-Median $planTimes
            RsyncSelected = $counts['rsync']; PSReplicaSelected = $counts['psreplica']
        }
        if ($counts['rsync'] -ne $counts['psreplica']) {
            Write-Warning "The tools selected different numbers of entries (rsync $($counts['rsync']), PSReplica $($counts['psreplica'])): the filter semantics differ; the times compare different work."
        }
    }
    finally {
        if (-not $KeepWorkPath -and (Test-Path -LiteralPath $work)) { & /bin/rm -rf -- $work }
    }
}

# ----------------------------------------------------------------------------------------------------------- report
Write-Host ''
Write-Host ("Filter benchmark: {0:N0} paths, {1} rules, median of {2}; load average {3}" -f $tree.Paths.Length, $RuleCount, $Runs, (((Get-Content /proc/loadavg) -split ' ')[0..2] -join ' ')) -ForegroundColor Cyan
if ($results.Contains('engine')) {
    $e = $results['engine']
    Write-Host ("  engine  SyncFilter.Test: {0:N3}s, {1:N0} ns/path, {2:N0} selected" -f $e.Seconds, $e.NsPerPath, $e.Selected)
}
if ($results.Contains('tree')) {
    $t = $results['tree']
    Write-Host ("  tree    rsync -r -n: {0:N3}s ({1:N0} listed)   Get-SyncPlan: {2:N3}s ({3:N0} items)   PSReplica / rsync = {4:N2}x" -f
        $t.Rsync, $t.RsyncSelected, $t.PSReplica, $t.PSReplicaSelected, ($t.PSReplica / $t.Rsync))
}
[pscustomobject]$results
