"""National reporting: template packs, indicators, the xlsx tables, the review list, the package, forms, traces."""
