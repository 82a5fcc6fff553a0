# build.ps1 -Task Demo: replicates a generated sample tree, changes it, previews and re-syncs with -Delete.
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force

$work = Join-Path ([IO.Path]::GetTempPath()) "psreplica-demo-$PID"
$source = Join-Path $work 'work'
$backup = Join-Path $work 'backup/work'
try {
    $null = New-Item -ItemType Directory -Force -Path "$source/src/lib", "$source/docs", "$source/tmp"
    $random = [Random]::new(42)
    foreach ($i in 1..12) {
        $bytes = [byte[]]::new($random.Next(1, 64KB))
        $random.NextBytes($bytes)
        [IO.File]::WriteAllBytes("$source/src/lib/module$i.bin", $bytes)
    }
    Set-Content "$source/README.md" '# Sample project'
    Set-Content "$source/docs/guide.md" 'How to use the sample.'
    Set-Content "$source/tmp/scratch.bak" 'not worth keeping'
    $null = New-Item -ItemType SymbolicLink -Path "$source/latest-guide" -Target 'docs/guide.md'

    Write-Host "`n== First replication: Sync-Directory -Path $source -Destination $backup -Exclude '*.bak'" -ForegroundColor Cyan
    Sync-Directory -Path $source -Destination $backup -Exclude '*.bak' | Format-Table -AutoSize | Out-Host

    Write-Host '== Changing the source: edit a file, add one, remove a directory' -ForegroundColor Cyan
    Add-Content "$source/README.md" 'A new line.'
    Set-Content "$source/docs/changes.md" 'Release notes.'
    Remove-Item "$source/src/lib/module3.bin", "$source/tmp" -Recurse

    Write-Host '== Get-SyncPlan -Delete: what the next run would do' -ForegroundColor Cyan
    Get-SyncPlan -Path $source -Destination $backup -Delete -Exclude '*.bak' | Format-Table -AutoSize | Out-Host

    Write-Host '== Sync-Directory -Delete' -ForegroundColor Cyan
    Sync-Directory -Path $source -Destination $backup -Delete -Exclude '*.bak' | Format-Table -AutoSize | Out-Host

    Write-Host '== A converged replica: Get-SyncPlan returns nothing, -Summary shows the totals' -ForegroundColor Cyan
    Write-Host "Planned actions: $(@(Get-SyncPlan -Path $source -Destination $backup -Delete -Exclude '*.bak').Count)"
    Sync-Directory -Path $source -Destination $backup -Delete -Exclude '*.bak' -Summary | Format-List | Out-Host
}
finally {
    Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue
}
