// The page (static_web/dist), deployed by azd with the SWA CLI (azd fetches the deployment
// token itself at deploy time; it is never an output here). Free serves the page in the
// direct topology; Standard is needed for a linked backend.
param name string
param location string
param tags object

@allowed([
  'Free'
  'Standard'
])
param sku string

resource site 'Microsoft.Web/staticSites@2023-12-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    tier: sku
  }
  properties: {
    provider: 'Custom'
    allowConfigFileUpdates: true
    // No pull-request preview environments: they would be public copies without a backend.
    stagingEnvironmentPolicy: 'Disabled'
  }
}

output name string = site.name
output id string = site.id
output uri string = 'https://${site.properties.defaultHostname}'
