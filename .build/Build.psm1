# Tasks behind build.ps1. Everything runs from the repository's own files: the .NET SDK, the local tool
# manifest's pwsh, and NuGet packages restored into the repository.

$script:Root = Split-Path $PSScriptRoot -Parent
$script:OutModule = Join-Path $script:Root 'out/PSReplica'
$script:TestResults = Join-Path $script:Root 'out/TestResults'

function Invoke-Native {
    # -Quiet: the command's output is shown only if it fails.
    param([Parameter(Mandatory)] [string] $FilePath, [string[]] $ArgumentList, [switch] $Quiet)
    if ($Quiet) {
        $output = & $FilePath @ArgumentList 2>&1
        if ($LASTEXITCODE -ne 0) { $output | ForEach-Object { Write-Host "$_" } }
    }
    else { & $FilePath @ArgumentList }
    if ($LASTEXITCODE -ne 0) {
        throw "'$FilePath $($ArgumentList -join ' ')' failed with exit code $LASTEXITCODE."
    }
}

# Windows and macOS: PSReplica runs there on the portable file-system backend (see about_PSReplica).
$script:PortableRids = @('win-x64', 'osx-arm64')

function Invoke-PSReplicaBuild {
    # -Quiet: no progress lines (the test task prints only failures and the totals); errors still throw.
    param([string] $Configuration = 'Release', [switch] $Quiet)
    if (-not $Quiet) { Write-Host "Building PSReplica ($Configuration)" -ForegroundColor Cyan }
    # Quiet: dotnet build prints its "Build succeeded" summary at any verbosity (NoSummary does not stop it), so its
    # output is shown only when it fails.
    Invoke-Native dotnet @('build', (Join-Path $script:Root 'PSReplica.sln'), '-c', $Configuration, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly') -Quiet:$Quiet

    $bin = Join-Path $script:Root "src/PSReplica/bin/$Configuration/net10.0"
    if (Test-Path $script:OutModule) { Remove-Item $script:OutModule -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $script:OutModule
    # Every assembly the cmdlets' project brings (PowerShellStandard.Library is compile-only and not among them).
    Copy-Item (Join-Path $bin '*.dll') $script:OutModule
    Write-ModuleManifest
    # The cmdlets for the platforms the portable file-system backend serves, compiled for each so that a call one of
    # them lacks fails the build (the platform analyzer, CA1416, is an error); out/platforms/<rid>, not run here.
    foreach ($rid in $script:PortableRids) {
        Invoke-Native dotnet @('build', (Join-Path $script:Root 'src/PSReplica/PSReplica.csproj'), '-c', $Configuration, '-r', $rid, '--no-self-contained',
            '-o', (Join-Path $script:Root "out/platforms/$rid"), '--nologo', '-v', 'quiet', '-clp:ErrorsOnly', '-p:TreatWarningsAsErrors=true') -Quiet:$Quiet
    }

    # The remote agent, deployed from here to servers that have .NET but no PSReplica (see about_PSReplica).
    $agentBin = Join-Path $script:Root "src/PSReplica.Agent/bin/$Configuration/net10.0"
    $agentOut = Join-Path $script:OutModule 'agent'
    $null = New-Item -ItemType Directory -Path $agentOut
    Copy-Item (Join-Path $agentBin '*') $agentOut -Include '*.dll', '*.json'
    # The same agent compiled ahead of time, for servers without .NET.
    Build-NativeAgent -Configuration $Configuration -Destination (Join-Path $agentOut 'native') -Quiet:$Quiet

    # Help: docs/*.md -> en-US (checked against the built cmdlets), then into the module.
    $enUs = Join-Path $script:Root 'en-US'
    . (Join-Path $PSScriptRoot 'HelpCompiler.ps1')
    Invoke-HelpCompiler -DocsPath (Join-Path $script:Root 'docs') -ModuleManifest (Join-Path $script:OutModule 'PSReplica.psd1') -OutputPath $enUs
    Copy-Item $enUs (Join-Path $script:OutModule 'en-US') -Recurse
    if (-not $Quiet) { Write-Host "Module laid out in $script:OutModule" -ForegroundColor Cyan }
}

# The native agents: one executable per platform, laid in the module at agent/native/<rid>/psreplica-agent (the
# deployment finds them by that path). linux-musl-x64 is not built: the feed has no musl NativeAOT runtime or
# ILCompiler pack (runtime.linux-musl-x64.Microsoft.DotNet.ILCompiler).
$script:NativeAgentRids = @('linux-x64', 'linux-arm64')
$script:NativeAgentName = 'psreplica-agent'

function Test-NativeAgentSkipped {
    # A developer without the cross toolchain may leave the native agents out with PSREPLICA_SKIP_NATIVE_AGENTS=1; CI
    # never does (the agent tests then demand them too).
    $env:PSREPLICA_SKIP_NATIVE_AGENTS -eq '1' -and $env:CI -ne 'true'
}

function Get-MissingNativeToolchain {
    # Debian's package for each tool or file that Native AOT needs here: clang and lld link both platforms, llvm's
    # objcopy splits the arm64 symbols off, and the cross gcc and libc give clang arm64's crt files and libraries.
    $needs = [ordered]@{
        'clang'                                  = 'clang'
        'ld.lld'                                 = 'lld'
        'llvm-objcopy'                           = 'llvm'
        'aarch64-linux-gnu-gcc'                  = 'gcc-aarch64-linux-gnu'
        '/usr/aarch64-linux-gnu/lib/crt1.o'      = 'libc6-dev-arm64-cross'
    }
    foreach ($tool in $needs.Keys) {
        $found = if ($tool.StartsWith('/')) { Test-Path -LiteralPath $tool } else { [bool](Get-Command $tool -CommandType Application -ErrorAction Ignore) }
        if (-not $found) { $needs[$tool] }
    }
}

function Get-NativeAgentInputHash {
    # What a native agent is compiled from: the agent's and the engine's sources and project files, the repository's
    # build properties, the SDK, and the commit (the agent's --version names it).
    param([string] $Rid, [string] $Configuration)
    $lines = [Collections.Generic.List[string]]::new()
    $lines.Add("$Rid $Configuration")
    $lines.Add((& dotnet --version))
    $commit = & git -C $script:Root rev-parse HEAD 2>$null
    $lines.Add("$commit")
    $files = @(Get-Item (Join-Path $script:Root 'Directory.Build.props'), (Join-Path $script:Root 'Directory.Packages.props'))
    foreach ($project in 'PSReplica.Agent', 'PSReplica.Engine') {
        $projectRoot = Join-Path $script:Root "src/$project"
        $files += Get-ChildItem $projectRoot -Recurse -File | Where-Object {
            $relative = [IO.Path]::GetRelativePath($projectRoot, $_.FullName)
            -not ($relative.StartsWith('bin/') -or $relative.StartsWith('obj/'))
        }
    }
    foreach ($file in $files | Sort-Object FullName) {
        $lines.Add("$([IO.Path]::GetRelativePath($script:Root, $file.FullName)) $((Get-FileHash -LiteralPath $file.FullName -Algorithm SHA256).Hash)")
    }
    $bytes = [Text.Encoding]::UTF8.GetBytes($lines -join "`n")
    [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData($bytes))
}

function Build-NativeAgent {
    # Publishes each platform's agent with Native AOT into out/native/<rid> (its own artifacts folder, so the solution's
    # obj folders keep their restore), unless the inputs are those of the agent already there, then lays it in the module.
    param([string] $Configuration, [string] $Destination, [switch] $Quiet)
    if (Test-NativeAgentSkipped) {
        Write-Warning 'PSREPLICA_SKIP_NATIVE_AGENTS=1: the module gets no native agents.'
        return
    }
    $missing = @(Get-MissingNativeToolchain)
    if ($missing) {
        throw ("The native agents need Debian's packages $($missing -join ', ') (all of them: " +
            "apt-get install clang lld llvm gcc-aarch64-linux-gnu libc6-dev-arm64-cross; qemu-user runs the arm64 tests). " +
            'To build without native agents on a development machine, set PSREPLICA_SKIP_NATIVE_AGENTS=1.')
    }
    $cache = Join-Path $script:Root 'out/native'
    foreach ($rid in $script:NativeAgentRids) {
        $built = Join-Path $cache $rid
        $executable = Join-Path $built $script:NativeAgentName
        $stamp = Join-Path $built 'inputs.sha256'
        $inputs = Get-NativeAgentInputHash -Rid $rid -Configuration $Configuration
        if ((Test-Path $executable) -and (Test-Path $stamp) -and (Get-Content -Raw $stamp).Trim() -eq $inputs) {
            if (-not $Quiet) { Write-Host "Native agent for $rid is up to date" -ForegroundColor Cyan }
        }
        else {
            if (-not $Quiet) { Write-Host "Compiling the native agent for $rid" -ForegroundColor Cyan }
            if (Test-Path $built) { Remove-Item $built -Recurse -Force }
            $publish = Join-Path $cache "publish/$rid"
            $arguments = @('publish', (Join-Path $script:Root 'src/PSReplica.Agent'), '-c', $Configuration, '-r', $rid,
                '-p:PublishAot=true', '--artifacts-path', (Join-Path $cache 'artifacts'), '-o', $publish, '--nologo', '-v', 'quiet', '-clp:ErrorsOnly')
            # Binutils' objcopy knows only this machine's format; llvm's splits the symbols off any target's binary.
            if ($rid -ne 'linux-x64') { $arguments += '-p:ObjCopyName=llvm-objcopy' }
            Invoke-Native dotnet $arguments -Quiet:$Quiet
            $null = New-Item -ItemType Directory -Path $built
            Copy-Item (Join-Path $publish 'PSReplica.Agent') $executable
            Set-Content -LiteralPath $stamp -Value $inputs
        }
        $target = Join-Path $Destination $rid
        $null = New-Item -ItemType Directory -Path $target -Force
        Copy-Item $executable $target
    }
}

function Write-ModuleManifest {
    # The repository's PSReplica.psd1 holds the module's metadata in a form Test-ModuleManifest accepts where it
    # stands: no RootModule (the assembly exists only after a build) and its format and types files by their repository
    # paths. The module's own manifest is that file with the assembly as RootModule and each of those files beside it.
    $source = Join-Path $script:Root 'PSReplica.psd1'
    $data = Import-PowerShellDataFile -LiteralPath $source
    if ($data.ContainsKey('RootModule')) { throw "$source names a RootModule; leave it out: the build adds 'PSReplica.dll'." }
    $lines = @(Get-Content -LiteralPath $source | Where-Object { $_ -notmatch '^\s*#' })
    $text = ($lines -join "`n") + "`n"
    foreach ($format in @($data.FormatsToProcess) + @($data.TypesToProcess)) {
        Copy-Item -LiteralPath (Join-Path $script:Root $format) -Destination $script:OutModule
        $text = $text.Replace("'$format'", "'$(Split-Path -Leaf $format)'")
    }
    if ($text -notmatch '^@\{\n') { throw "$source must begin with '@{' after its comment lines." }
    $header = "# Written by build.ps1 from the repository's PSReplica.psd1 (edit that file).`n"
    $text = $header + "@{`n    RootModule           = 'PSReplica.dll'`n" + $text.Substring(3)
    Set-Content -LiteralPath (Join-Path $script:OutModule 'PSReplica.psd1') -Value $text -NoNewline
}

function Format-FailureText {
    # A failure's message on one line: the console gets one line per failure; the full text stays in out/TestResults.
    param([string] $Text)
    ($Text.Trim() -replace '\s*(\r?\n)+\s*', ' | ')
}

function Get-TrxResult {
    # Counts and the failed tests (name: message) of a trx file; a run that ended abnormally (host crash, abort) has
    # more failures in its counters than failed tests, and its run-level messages say why.
    param([string] $Path)
    [xml] $trx = Get-Content -Raw $Path
    $counters = $trx.TestRun.ResultSummary.Counters
    $failed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $failures = [Collections.Generic.List[string]]::new()
    $ns = @{ t = $trx.DocumentElement.NamespaceURI }
    foreach ($node in Select-Xml -Xml $trx -XPath '//t:UnitTestResult[@outcome="Failed"]' -Namespace $ns) {
        $message = Select-Xml -Xml $node.Node -XPath './t:Output/t:ErrorInfo/t:Message' -Namespace $ns | Select-Object -First 1
        $text = if ($message) { $message.Node.InnerText } else { '(no message)' }
        $failures.Add("$($node.Node.testName): $(Format-FailureText $text)")
    }
    if ($failed -gt $failures.Count) {
        $runInfo = @(Select-Xml -Xml $trx -XPath '//t:ResultSummary/t:RunInfos/t:RunInfo/t:Text' -Namespace $ns | ForEach-Object { $_.Node.InnerText })
        $why = if ($runInfo) { Format-FailureText ($runInfo -join "`n") } else { 'no message' }
        $failures.Add("the run ended abnormally ($($failed - $failures.Count) not counted as test failures): $why")
    }
    [pscustomobject]@{ Passed = [int]$counters.passed; Failed = $failed; Failures = $failures }
}

function Invoke-PSReplicaTest {
    # The console gets one line per failure and the totals; what the runners print goes to out/TestResults/*.log, next
    # to the trx files and Pester's XML, which hold the full messages and stack traces.
    param([string] $Configuration = 'Release', [string[]] $PesterPath)
    Invoke-PSReplicaBuild -Configuration $Configuration -Quiet
    if (Test-Path $script:TestResults) { Remove-Item $script:TestResults -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $script:TestResults

    $passed = 0
    $failed = 0
    $failures = [Collections.Generic.List[string]]::new()

    if (-not $PesterPath) {
        # Every xunit project under tests/ (tests/<Name>.Tests/<Name>.Tests.csproj).
        foreach ($project in Get-ChildItem (Join-Path $script:Root 'tests') -Filter '*.Tests.csproj' -Recurse -Depth 1 -File) {
            $trx = Join-Path $script:TestResults "$($project.BaseName).trx"
            $log = Join-Path $script:TestResults "$($project.BaseName).log"
            & dotnet test $project.FullName -c $Configuration --no-build --nologo `
                --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal' > $log 2>&1
            $xunitExit = $LASTEXITCODE
            $counted = 0
            if (Test-Path $trx) {
                $result = Get-TrxResult $trx
                $passed += $result.Passed
                $failed += $result.Failed
                $counted = $result.Failed
                foreach ($failure in $result.Failures) { $failures.Add("$($project.BaseName): $failure") }
            }
            if ($xunitExit -ne 0 -and $counted -eq 0) {
                $failed += 1
                $failures.Add("$($project.BaseName): dotnet test exited with $xunitExit (see $log)")
            }
        }
    }

    Invoke-Native dotnet @('restore', (Join-Path $script:Root 'tests/Pester/Pester.Restore.csproj'), '--nologo', '-v', 'quiet')
    $pesterJson = Join-Path $script:TestResults 'pester.json'
    $pesterLog = Join-Path $script:TestResults 'pester.log'
    $runner = Join-Path $PSScriptRoot 'Invoke-PesterRun.ps1'
    $arguments = @('pwsh', '-NoProfile', '-NonInteractive', '-File', $runner, '-ModuleManifest', (Join-Path $script:OutModule 'PSReplica.psd1'), '-ResultPath', $pesterJson)
    if ($PesterPath) { $arguments += @('-TestPath', ($PesterPath -join ',')) }
    Push-Location $script:Root
    # What the tests and the cmdlets write to the host (What if: lines, warnings) goes to the log, not the console.
    try { & dotnet @arguments > $pesterLog 2>&1 } finally { Pop-Location }
    $pesterExit = $LASTEXITCODE
    if (Test-Path $pesterJson) {
        $counts = Get-Content -Raw $pesterJson | ConvertFrom-Json
        $passed += $counts.Passed
        $failed += $counts.Failed
        foreach ($failure in $counts.Failures) { $failures.Add("Pester: $($failure.Name): $(Format-FailureText $failure.Message)") }
    }
    else {
        $failed += 1
        $failures.Add("Pester: the run produced no result (exit code $pesterExit; see $pesterLog)")
    }

    foreach ($failure in $failures) { Write-Host $failure -ForegroundColor Red }
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

function Invoke-PSReplicaDemo {
    param([string] $Configuration = 'Release')
    Invoke-PSReplicaBuild -Configuration $Configuration
    & (Join-Path $PSScriptRoot 'Demo.ps1') -ModuleManifest (Join-Path $script:OutModule 'PSReplica.psd1')
}

Export-ModuleMember -Function Invoke-PSReplicaBuild, Invoke-PSReplicaTest, Invoke-PSReplicaDemo
